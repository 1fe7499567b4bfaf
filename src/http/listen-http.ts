import { createServer, type RequestListener, type Server } from 'node:http';

// Node's defaults (300 s per request, no connection cap) let one client hold hundreds of
// half-sent requests for minutes. Every legitimate request here is small: webhooks of a few KB,
// API and page requests of a few hundred bytes, so:
// - headers arrive in one packet; 10 s covers a congested link and frees a slowloris in seconds;
export const HEADERS_TIMEOUT_SECONDS = 10;
// - a whole request, body included, in 30 s: even a 1 MiB body (design.md's limit) needs only
//   8 s at 1 Mbit/s;
export const REQUEST_TIMEOUT_SECONDS = 30;
// - 512 sockets: Avara, a scraper and a few operators need tens; the cap keeps the process
//   below a default `ulimit -n` of 1024, which the database files and upstream sockets share.
export const MAX_CONNECTIONS = 512;
// The timeouts are enforced by a sweep; Node's default of 30 s would let them overrun by as much.
const TIMEOUT_SWEEP_MS = 1000;

export function listenHttp(app: RequestListener, host: string, port: number): Promise<Server> {
  const server = createServer({
    headersTimeout: HEADERS_TIMEOUT_SECONDS * 1000,
    requestTimeout: REQUEST_TIMEOUT_SECONDS * 1000,
    connectionsCheckingInterval: TIMEOUT_SWEEP_MS,
  }, app);
  server.maxConnections = MAX_CONNECTIONS;
  return new Promise((resolve, reject) => {
    server.once('listening', () => resolve(server));
    server.once('error', reject);
    server.listen(port, host);
  });
}
