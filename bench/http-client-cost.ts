import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { forkRpcChild } from './child-rpc.ts';
import { pinBenchToCores } from './pin-cores.ts';
import { SyncError } from '../src/errors.ts';
import { createHttpTransport, type UpstreamRequest } from '../src/upstream/node-http-transport.ts';
import { sendAttempt, type AnswerClassifier } from '../src/upstream/send-attempt.ts';

// npx tsx bench/http-client-cost.ts [requests=400]
// CPU per request of fetch (undici, what src/upstream used until 2026-12-07), of src/upstream's
// node:http transport as the clients call it (sendAttempt, with an attempt's timeout signal), and
// of a bare node:http request, for the exchanges of a delivery: a small JSON GET (Avara calls, FHIR searches), a
// 200 KB PDF GET, a 560 KB POST (the transaction). The server is another process; the figure is
// this process's CPU (process.cpuUsage), after a warm-up.
const count = Number(process.argv[2] ?? 400);
process.stderr.write(`cores: ${pinBenchToCores().note}\n`);
const server = await forkRpcChild<{ url: string }>('http-answer-child.ts');
const body = Buffer.from(JSON.stringify({ resourceType: 'Bundle', data: randomBytes(410_000).toString('base64') }));
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function viaNodeHttp(path: string, method = 'GET', payload?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.info.url}${path}`, { method, agent, headers: payload ? { 'content-type': 'application/fhir+json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const transport = createHttpTransport();
const answers: AnswerClassifier = {
  failureFromStatus: (response) => SyncError.permanent('fhir_rejected_bundle', `answered ${response.status}`),
  failureFromNetwork: (error) => SyncError.retryable('fhir_unavailable', 'unreachable', { cause: error }),
};
const viaTransport = (path: string, init: UpstreamRequest = {}) =>
  sendAttempt(`${server.info.url}${path}`, init, { signal: AbortSignal.timeout(60_000) }, answers, transport);

const exchanges: [string, () => Promise<unknown>][] = [
  ['small JSON GET, fetch + text() + JSON.parse', async () => JSON.parse(await (await fetch(`${server.info.url}/json`, { signal: AbortSignal.timeout(60_000) })).text())],
  ['small JSON GET, transport + json()', async () => (await viaTransport('/json')).json()],
  ['small JSON GET, node:http + JSON.parse', async () => JSON.parse((await viaNodeHttp('/json')).toString('utf8'))],
  ['200 KB PDF GET, fetch, body iterated (download-pdf)', async () => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of (await fetch(`${server.info.url}/pdf`)).body ?? []) chunks.push(chunk);
    return Buffer.concat(chunks);
  }],
  ['200 KB PDF GET, fetch, arrayBuffer()', async () => new Uint8Array(await (await fetch(`${server.info.url}/pdf`)).arrayBuffer())],
  ['200 KB PDF GET, transport, body iterated', async () => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of (await viaTransport('/pdf', { redirect: 'manual' })).body ?? []) chunks.push(chunk);
    return Buffer.concat(chunks);
  }],
  ['200 KB PDF GET, node:http', () => viaNodeHttp('/pdf')],
  ['560 KB POST, fetch, bytes body', async () => (await fetch(`${server.info.url}/tx`, { method: 'POST', body, headers: { 'content-type': 'application/fhir+json' } })).text()],
  ['560 KB POST, transport, bytes body', async () => (await viaTransport('/tx', { method: 'POST', body, headers: { 'content-type': 'application/fhir+json' } })).text()],
  ['560 KB POST, node:http', () => viaNodeHttp('/tx', 'POST', body)],
];

try {
  for (const [name, exchange] of exchanges) {
    for (let i = 0; i < 50; i++) await exchange();
    const before = process.cpuUsage();
    for (let i = 0; i < count; i++) await exchange();
    const used = process.cpuUsage(before);
    process.stdout.write(`${name.padEnd(48)} ${((used.user + used.system) / count / 1000).toFixed(3)} ms CPU per request\n`);
  }
} finally {
  agent.destroy();
  transport.close();
  await server.stop();
}
