import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncError } from '../src/errors.ts';
import { createFhirClient } from '../src/fhir/fhir-client.ts';
import { describeNetworkFailure } from '../src/upstream/network-failure.ts';
import { createHttpTransport, type HttpTransport } from '../src/upstream/node-http-transport.ts';
import { requestWithRetries } from '../src/upstream/request-with-retries.ts';
import { sendAttempt, type AnswerClassifier } from '../src/upstream/send-attempt.ts';
import { generateTestCertificates } from './support/generate-test-certificates.ts';

interface Arrival { method: string; url: string; socket: number; headers: IncomingMessage['headers']; body: string }
interface TestServer { url: string; arrivals: Arrival[]; server: Server }

const servers: Server[] = [];
const transports: HttpTransport[] = [];
afterEach(async () => {
  transports.splice(0).forEach((t) => t.close());
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((done) => {
    s.closeAllConnections();
    s.close(() => done());
  })));
});

function transport(): HttpTransport {
  const made = createHttpTransport();
  transports.push(made);
  return made;
}

/** A server that notes each request (which connection, what body) before `handle` answers it. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse, arrival: Arrival) => void, server: Server = createServer()): Promise<TestServer> {
  const arrivals: Arrival[] = [];
  const sockets = new Map<Socket, number>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!sockets.has(req.socket)) sockets.set(req.socket, sockets.size + 1);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const arrival = { method: req.method!, url: req.url!, socket: sockets.get(req.socket)!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      arrivals.push(arrival);
      handle(req, res, arrival);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scheme = 'cert' in server ? 'https' : 'http';
  return { url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals, server };
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof Error)) throw new Error(`expected a rejection, got ${String(error)}`);
  return error;
}

const ok = (_req: IncomingMessage, res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');

describe('node:http transport for upstream calls', () => {
  it('carries sequential requests to one origin over one kept-alive connection', async () => {
    const server = await serve(ok);
    const http = transport();
    for (let i = 0; i < 5; i++) expect(await (await http.send(`${server.url}/n${i}`)).json()).toEqual({ ok: true });
    expect(server.arrivals.map((a) => a.socket)).toEqual([1, 1, 1, 1, 1]);
  });

  it('sends the request headers fetch sent, the body with its length, and a caller\'s headers as given', async () => {
    const server = await serve(ok);
    await (await transport().send(`${server.url}/tx`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal' }, body: Buffer.from('{"a":1}'), cache: 'no-cache' })).text();
    const [arrival] = server.arrivals;
    expect(arrival!.body).toBe('{"a":1}');
    expect(arrival!.headers).toMatchObject({
      'content-type': 'application/fhir+json', prefer: 'return=minimal', 'content-length': '7', accept: '*/*',
      'accept-encoding': 'gzip, deflate', 'user-agent': 'node', 'cache-control': 'max-age=0', connection: 'keep-alive',
    });
  });

  it('inflates a gzip answer, as fetch did', async () => {
    const server = await serve((_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('{"resourceType":"Bundle"}')));
    expect(await (await transport().send(server.url)).json()).toEqual({ resourceType: 'Bundle' });
  });

  it('ends a request whose answer never comes with the attempt\'s TimeoutError', async () => {
    const server = await serve(() => undefined);
    const error = await rejectionOf(transport().send(server.url, { signal: AbortSignal.timeout(200) }));
    expect(error.name).toBe('TimeoutError');
  });

  it('ends a body that stalls halfway with the attempt\'s TimeoutError, not a network error', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(400));
    });
    const response = await transport().send(server.url, { signal: AbortSignal.timeout(300) });
    expect(response.status).toBe(200);
    expect((await rejectionOf(response.text())).name).toBe('TimeoutError');
  });

  it('reports a connection reset in the middle of the body as "terminated" with the socket\'s code, and the call is retried to success', async () => {
    const server = await serve((req, res, arrival) => {
      res.writeHead(200, { 'content-length': '1000', 'content-type': 'application/json' });
      if (server.arrivals.length > 1) return res.end(`{"ok":true,"pad":"${'x'.repeat(1000 - 20)}"}`);
      res.write('{"ok":tr');
      setTimeout(() => req.socket.resetAndDestroy(), 50);
      void arrival;
    });
    const http = transport();
    const first = await http.send(server.url);
    const cut = await rejectionOf(first.text());
    expect(cut.message).toBe('terminated');
    expect(describeNetworkFailure(cut, server.url)).toMatchObject({ code: 'ECONNRESET', cause: 'reset' });

    // Through the shared retry loop, as the Avara client reads a body: the second attempt succeeds.
    server.arrivals.length = 0;
    const answers: AnswerClassifier = {
      failureFromStatus: (response) => SyncError.permanent('fhir_rejected_bundle', `answered ${response.status}`),
      failureFromNetwork: (error) => SyncError.retryable('fhir_unavailable', describeNetworkFailure(error).text, { cause: error }),
    };
    const value = await requestWithRetries({ timeoutMs: 5_000, maxRetries: 1, maxRetryAfterMs: 0 }, {
      operation: 'get',
      attempt: async (attempt) => (await sendAttempt(server.url, {}, attempt, answers, http)).json(),
      failureWithoutAnswer: answers.failureFromNetwork,
    });
    expect(value).toMatchObject({ ok: true });
    expect(server.arrivals).toHaveLength(2);
  });

  it('names a refused connection with its code and address, as fetch\'s error chain did', async () => {
    const server = await serve(ok);
    const http = transport();
    server.server.closeAllConnections();
    await new Promise<void>((done) => server.server.close(() => done()));
    servers.splice(servers.indexOf(server.server), 1);
    const error = await rejectionOf(http.send(`${server.url}/Patient`));
    expect(error.message).toBe('fetch failed');
    expect(describeNetworkFailure(error, server.url)).toMatchObject({ code: 'ECONNREFUSED', cause: 'refused', where: server.url.slice('http://'.length) });
  });

  it('asks a GET again once on a new connection when the server closed the kept-alive one as the request arrived', async () => {
    // The race a pooled connection loses: the server drops it instead of answering the next request.
    const server = await serve((req, res) => (server.arrivals.filter((a) => a.socket === server.arrivals.at(-1)!.socket).length === 2 ? req.socket.destroy() : ok(req, res)));
    const http = transport();
    await (await http.send(`${server.url}/a`)).text();
    expect(await (await http.send(`${server.url}/b`)).json()).toEqual({ ok: true });
    expect(server.arrivals.map((a) => [a.url, a.socket])).toEqual([['/a', 1], ['/b', 1], ['/b', 2]]);
  });

  it('does not send a POST twice on such a connection: it fails as a retryable network error for its caller to decide', async () => {
    const server = await serve((req, res) => (server.arrivals.filter((a) => a.socket === server.arrivals.at(-1)!.socket).length === 2 ? req.socket.destroy() : ok(req, res)));
    const http = transport();
    await (await http.send(`${server.url}/a`)).text();
    const error = await rejectionOf(http.send(`${server.url}/Patient`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/fhir+json' } }));
    expect(describeNetworkFailure(error, server.url).cause).toBe('reset');
    expect(server.arrivals.map((a) => a.method)).toEqual(['GET', 'POST']);
  });

  it('opens a new connection after the server closed an idle kept-alive one', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { 'keep-alive': 'timeout=30' }).end('{}');
      // Closed cleanly after 100 ms idle, long before the 30 s the answer announced.
      res.on('finish', () => setTimeout(() => req.socket.end(), 100));
    });
    const http = transport();
    await (await http.send(`${server.url}/a`)).text();
    await new Promise((resolve) => setTimeout(resolve, 400));
    await (await http.send(`${server.url}/b`)).text();
    expect(server.arrivals.map((a) => a.socket)).toEqual([1, 2]);
  });

  it('follows a 307 with the same method and body, and drops Authorization when the redirect leaves the origin', async () => {
    const elsewhere = await serve(ok);
    const server = await serve((req, res) => (req.url === '/moved' ? res.writeHead(307, { location: `${elsewhere.url}/there` }).end() : ok(req, res)));
    const answer = await transport().send(`${server.url}/moved`, { method: 'POST', body: '{"x":1}', headers: { authorization: 'Bearer secret', 'content-type': 'application/json' } });
    expect(answer.status).toBe(200);
    expect(elsewhere.arrivals.map((a) => [a.method, a.url, a.body, a.headers.authorization])).toEqual([['POST', '/there', '{"x":1}', undefined]]);
  });

  it('returns a redirect as it is when told not to follow (the PDF download)', async () => {
    const server = await serve((_req, res) => res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end());
    const answer = await transport().send(server.url, { redirect: 'manual' });
    expect([answer.status, answer.headers.get('location')]).toEqual([302, 'http://127.0.0.1:1/elsewhere']);
    expect(server.arrivals).toHaveLength(1);
  });

  it('keeps the FHIR client\'s message for a refused connection: code and host:port only', async () => {
    const server = await serve(ok);
    server.server.closeAllConnections();
    await new Promise<void>((done) => server.server.close(() => done()));
    servers.splice(servers.indexOf(server.server), 1);
    const port = new URL(server.url).port;
    const fhir = createFhirClient({ baseUrl: `${server.url}/fhir`, auth: { kind: 'none' }, maxRetries: 0, timeoutMs: 2_000 });
    await expect(fhir.search('Patient', { identifier: 'x|y' })).rejects.toMatchObject({ code: 'fhir_unavailable', retryable: true, message: `FHIR server unreachable (ECONNREFUSED 127.0.0.1:${port})` });
  });
});

describe('node:http transport over TLS', () => {
  it('refuses a certificate from a CA the process does not trust, as a TLS failure', async () => {
    const certs = generateTestCertificates();
    try {
      const server = await serve(ok, createTlsServer({ cert: certs.server.cert, key: certs.server.key }));
      const error = await rejectionOf(transport().send(server.url));
      expect(describeNetworkFailure(error, server.url).cause).toBe('tls');
    } finally {
      certs.remove();
    }
  });

  it('trusts a CA given in NODE_EXTRA_CA_CERTS, as fetch did', async () => {
    const certs = generateTestCertificates();
    try {
      const server = await serve(ok, createTlsServer({ cert: certs.server.cert, key: certs.server.key }));
      const caFile = join(tmpdir(), `afs-extra-ca-${process.pid}.pem`);
      writeFileSync(caFile, certs.ca);
      const script = `import { createHttpTransport } from './src/upstream/node-http-transport.ts';
        const t = createHttpTransport(); const r = await t.send('${server.url}/x'); console.log(r.status, await r.text()); t.close();`;
      try {
        const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile }, cwd: process.cwd(), timeout: 60_000,
        });
        expect(stdout.trim()).toBe('200 {"ok":true}');
      } finally {
        rmSync(caFile, { force: true });
      }
    } finally {
      certs.remove();
    }
  }, 90_000);
});
