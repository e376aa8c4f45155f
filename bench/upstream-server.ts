// The API behind the gateway in `npm run bench -- gateway`: a bare node:http server answering
// every request with a small JSON body, so the measurement is nginx (with or without forward-auth).
import { createServer } from 'node:http';
import { serveChild } from './child-server.js';

const payload = JSON.stringify({ ok: true });
const server = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    response.end(payload);
  });
});
serveChild(server);
