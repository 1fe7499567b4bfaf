import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { answerOf, type UpstreamResponse } from './upstream-response.ts';

// HTTP/1.1 on node:http for every upstream call (Avara, its PDF storage, FHIR), in place of fetch:
// undici's fetch spent 1-3 ms of CPU per exchange in its WHATWG streams and header objects, about
// a quarter of serve's CPU per delivery. What fetch did that an EHR or Avara could notice is kept:
// the same request headers, inflating gzip/deflate/br, following redirects unless told not to
// (dropping Authorization across origins), Node's default TLS (system CAs plus
// NODE_EXTRA_CA_CERTS, SNI, certificate checks), no proxy, and the attempt's signal ending the
// exchange with its reason (a TimeoutError) whether headers or body were pending.

export interface UpstreamRequest {
  method?: string;
  /** A plain object, a Headers or pairs; names are matched without regard to case. */
  headers?: HeadersInit;
  body?: string | Uint8Array | null;
  /** 'manual' returns a 3xx as it is (the PDF download: a redirect would leave the allow-list). */
  redirect?: 'follow' | 'manual' | 'error';
  /** 'no-cache' asks caches on the way to revalidate (Cache-Control: max-age=0), as fetch does; Medplum sets it. */
  cache?: string;
  signal?: AbortSignal | null;
  // Medplum sets these for browsers; ignored, as undici ignores them.
  credentials?: string;
}

const MAX_REDIRECTS = 20;
// Per origin. A worker holds at most one request per upstream at a time and WORKER_CONCURRENCY is
// at most 64, so deliveries never queue here; a runaway caller does, under its attempt's timeout.
const MAX_SOCKETS = 64;
// Idle sockets are closed after 4 s (undici's default), before a typical server's 5 s: fewer
// requests meet a socket the server is closing. A shorter `Keep-Alive: timeout` hint wins.
const IDLE_SOCKET_MS = 4_000;
// RFC 9110 §9.2.2: asking again cannot do twice what once would do.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Keep-alive connection pools, one per scheme, for the calls of a process (what fetch's global dispatcher was). */
export interface HttpTransport {
  send(url: string | URL, init?: UpstreamRequest): Promise<UpstreamResponse>;
  /** Closes the pooled connections; requests in flight end with an error. */
  close(): void;
}

export function createHttpTransport(options: { maxSockets?: number; idleSocketMs?: number } = {}): HttpTransport {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? MAX_SOCKETS, timeout: options.idleSocketMs ?? IDLE_SOCKET_MS, scheduling: 'lifo' as const };
  const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };
  return {
    send: (url, init = {}) => sendFollowingRedirects(agents, typeof url === 'string' ? new URL(url) : url, init),
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

let shared: HttpTransport | undefined;
/** The process's transport, made on first use: clients share its pools as they shared fetch's. */
export function sharedHttpTransport(): HttpTransport {
  return (shared ??= createHttpTransport());
}

interface Agents { http: HttpAgent; https: HttpsAgent }

async function sendFollowingRedirects(agents: Agents, first: URL, init: UpstreamRequest): Promise<UpstreamResponse> {
  let url = first;
  let method = (init.method ?? 'GET').toUpperCase();
  let headers = requestHeaders(init, url);
  let body = bodyBytes(init.body);
  for (let redirects = 0; ; redirects++) {
    const response = await sendOnce(agents, url, method, headers, body, init.signal ?? undefined);
    const location = isRedirect(response.status) && init.redirect !== 'manual' ? response.headers.get('location') : null;
    if (location === null) return response;
    await response.body?.cancel();
    if (init.redirect === 'error') throw new TypeError('fetch failed', { cause: new Error('unexpected redirect') });
    if (redirects >= MAX_REDIRECTS) throw new TypeError('fetch failed', { cause: new Error('redirect count exceeded') });
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new TypeError('fetch failed', { cause: new Error('URL scheme must be a HTTP(S) scheme') });
    // Fetch standard, HTTP-redirect fetch: 303 (and 301/302 after a POST) turn into a GET without
    // the body; credentials never follow a request to another origin.
    if (response.status === 303 ? method !== 'GET' && method !== 'HEAD' : (response.status === 301 || response.status === 302) && method === 'POST') {
      method = 'GET';
      body = undefined;
      headers = withoutNames(headers, ['content-length', 'content-type', 'content-encoding', 'content-language', 'content-location']);
    }
    if (next.origin !== url.origin) headers = withoutNames(headers, ['authorization', 'proxy-authorization', 'cookie', 'host']);
    if (next.protocol !== url.protocol) headers['accept-encoding'] = next.protocol === 'https:' ? 'br, gzip, deflate' : 'gzip, deflate';
    url = next;
  }
}

const isRedirect = (status: number) => status === 301 || status === 302 || status === 303 || status === 307 || status === 308;

function sendOnce(agents: Agents, url: URL, method: string, headers: OutgoingHttpHeaders, body: Buffer | undefined, signal: AbortSignal | undefined): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    let req: ClientRequest;
    let answer: IncomingMessage | undefined;
    const onAbort = () => {
      // Ending the answer with the signal's reason keeps a timeout a TimeoutError while the body is read.
      if (answer) return answer.destroy(signal!.reason);
      req.destroy(signal!.reason);
      reject(signal!.reason);
    };
    const release = () => signal?.removeEventListener('abort', onAbort);
    signal?.addEventListener('abort', onAbort, { once: true });
    const start = (retryingStaleSocket: boolean) => {
      const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
      if (!send) {
        release();
        return reject(new TypeError('fetch failed', { cause: new Error('unknown scheme') }));
      }
      req = send(url, { method, headers, agent: url.protocol === 'https:' ? agents.https : agents.http });
      req.once('response', (res: IncomingMessage) => {
        answer = res;
        // The abort listener stays until the body is read, so the timeout covers the body too.
        resolve(answerOf(res, method, release));
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (answer || signal?.aborted) return;
        // A pooled connection the server closed while idle fails before it carries our request:
        // asked again once, on a new connection, when asking twice is harmless. Other requests
        // (a transaction POST, a create) surface it as a network failure, retryable by their callers.
        if (!retryingStaleSocket && req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE') && IDEMPOTENT.has(method)) {
          start(true);
          return;
        }
        release();
        reject(new TypeError('fetch failed', { cause: error }));
      });
      req.end(body);
    };
    start(false);
  });
}

function requestHeaders(init: UpstreamRequest, url: URL): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of headerPairs(init.headers)) {
    const key = name.toLowerCase();
    const before = headers[key];
    headers[key] = before === undefined ? value : `${String(before)}, ${value}`;
  }
  // What fetch (undici) adds when a caller did not say.
  if (init.body !== undefined && init.body !== null && typeof init.body === 'string' && headers['content-type'] === undefined) headers['content-type'] = 'text/plain;charset=UTF-8';
  headers.accept ??= '*/*';
  headers['accept-language'] ??= '*';
  headers['sec-fetch-mode'] ??= 'cors';
  headers['user-agent'] ??= 'node';
  if (init.cache === 'no-cache' && headers['cache-control'] === undefined) headers['cache-control'] = 'max-age=0';
  headers['accept-encoding'] ??= url.protocol === 'https:' ? 'br, gzip, deflate' : 'gzip, deflate';
  const method = (init.method ?? 'GET').toUpperCase();
  const bytes = bodyLength(init.body);
  if (bytes !== undefined) headers['content-length'] = String(bytes);
  else if (method === 'POST' || method === 'PUT') headers['content-length'] = '0';
  return headers;
}

function headerPairs(headers: HeadersInit | undefined): Iterable<[string, string]> {
  if (headers === undefined) return [];
  if (Array.isArray(headers)) return headers as [string, string][];
  // Told apart by shape, not `instanceof Headers`: naming the global loads all of undici into the
  // thread, which nothing else on the delivery path needs any more.
  if (typeof (headers as Headers).entries === 'function') return (headers as Headers).entries();
  return Object.entries(headers as Record<string, string>);
}

function bodyBytes(body: UpstreamRequest['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

function bodyLength(body: UpstreamRequest['body']): number | undefined {
  if (body === undefined || body === null) return undefined;
  return typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
}

function withoutNames(headers: OutgoingHttpHeaders, names: string[]): OutgoingHttpHeaders {
  const kept = { ...headers };
  for (const name of names) delete kept[name];
  return kept;
}
