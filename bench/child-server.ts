// The baseline servers of the bench (raw-server.ts, upstream-server.ts) run as child processes:
// listen on a free loopback port, announce it the way bench/servers.ts waits for, stop on SIGTERM.
import type { Server } from 'node:http';

export function serveChild(server: Server): void {
  server.keepAliveTimeout = 72_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (typeof address === 'object' && address !== null) console.log(`listening on http://127.0.0.1:${address.port}`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
