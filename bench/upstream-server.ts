// The API behind the gateway in `npm run bench -- gateway`: a bare node:http server answering
// every request with a small JSON body, so the measurement is nginx (with or without forward-auth).
import { createServer } from 'node:http';

const payload = JSON.stringify({ ok: true });
const server = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    response.end(payload);
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (typeof address === 'object' && address !== null) console.log(`listening on http://127.0.0.1:${address.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
