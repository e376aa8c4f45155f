// The baseline: a bare node:http server that reads a JSON body and answers with the same JSON
// shape a valid verify returns. Keyward's verify is measured against it in the same run.
import { createServer } from 'node:http';
import { serveChild } from './child-server.js';

const reply = {
  valid: true,
  code: 'VALID',
  key: {
    id: 'key_01JBENCHBENCHBENCHBENCHBEN',
    name: 'bench',
    projectId: 'proj_01JBENCHBENCHBENCHBENCHBEN',
    accountId: 'acc_01JBENCHBENCHBENCHBENCHBEN',
    environment: 'live',
    type: 'token',
    scopes: ['inference'],
    meta: null,
    expiresAt: null,
  },
};

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { key?: string };
    const payload = JSON.stringify(body.key === undefined ? { valid: false, code: 'MALFORMED' } : reply);
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
    response.end(payload);
  });
});
serveChild(server);
