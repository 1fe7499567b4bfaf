import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignedRef } from '../../src/standins/avara-sandbox/sandbox-types.ts';
import { forkRpcChild, type RpcChild } from '../child-rpc.ts';
import { figureOf, progress, repeat, type Figure } from '../figures.ts';
import { loadClosedLoop, loadFixedRate } from '../load-http.ts';
import { startServe } from '../serve-process.ts';
import { signedReportWebhooks } from '../signed-webhooks.ts';
import type { SandboxInfo } from './delivery-product.ts';

export interface IntakeSizes {
  seconds: number;            // per closed-loop run
  connections: number[];      // e.g. [10, 100]
  p99RatePerSec: number;      // fixed-rate load for the latency figures
  p99Seconds: number;
  loadedDeliveries: number;   // deliveries running while the loaded p99 is taken
}

export interface IntakeFigures {
  byConnections: Record<string, { bare: Figure; product: Figure; ratio: Figure }>;
  p99Idle: Figure;
  p99Loaded: Figure;
  /** Loaded / idle, per interleaved run. */
  p99Ratio: Figure;
  loadedDeliveriesStillRunning: boolean[];
}

export const WEBHOOK_KEY = `whsec_${Buffer.from('bench-intake-key-0123456789abcdef').toString('base64')}`;
// More than any run can send: a 2-core machine answers a few thousand webhooks a second at best.
const PREPARED_PER_SECOND = 4000;

export async function measureIntake(sizes: IntakeSizes, times: number): Promise<IntakeFigures> {
  const byConnections: IntakeFigures['byConnections'] = {};
  for (const connections of sizes.connections) {
    // Interleaved, bare then product in each run, so both see the same background load.
    const runs = await repeat(times, async () => ({
      bare: await withTempDir((dir) => bareRate(dir, connections, sizes.seconds)),
      product: await withTempDir((dir) => productRate(dir, connections, sizes.seconds)),
    }));
    progress(`intake, ${connections} connections, bare / product: ${runs.map((r) => `${r.bare.toFixed(0)} / ${r.product.toFixed(0)}`).join(', ')} /s`);
    byConnections[String(connections)] = {
      bare: figureOf(runs.map((r) => r.bare)),
      product: figureOf(runs.map((r) => r.product)),
      ratio: figureOf(runs.map((r) => r.product / r.bare)),
    };
  }
  const sandbox = await forkRpcChild<SandboxInfo>('sandbox-child.ts', { BENCH_SEED: '77' });
  try {
    const refs = await sandbox.call<SignedRef[]>('sign', sizes.loadedDeliveries);
    const runs = await repeat(times, async () => ({
      idle: await withTempDir((dir) => productP99(dir, sandbox, [], sizes)),
      loaded: await withTempDir((dir) => productP99(dir, sandbox, refs.map((r) => r.reportId), sizes)),
    }));
    progress(`intake p99 idle / during deliveries: ${runs.map((r) => `${r.idle.p99.toFixed(1)} / ${r.loaded.p99.toFixed(1)}`).join(', ')} ms`);
    const idle = runs.map((r) => r.idle);
    const loaded = runs.map((r) => r.loaded);
    return {
      byConnections,
      p99Idle: figureOf(idle.map((r) => r.p99)),
      p99Loaded: figureOf(loaded.map((r) => r.p99)),
      p99Ratio: figureOf(runs.map((r) => r.loaded.p99 / r.idle.p99)),
      loadedDeliveriesStillRunning: loaded.map((r) => r.stillRunning),
    };
  } finally {
    await sandbox.stop();
  }
}

async function bareRate(dir: string, connections: number, seconds: number): Promise<number> {
  const bare = await forkRpcChild<{ url: string }>('bare-intake-child.ts', { BENCH_SQLITE_PATH: join(dir, 'bare.db'), BENCH_WEBHOOK_KEY: WEBHOOK_KEY });
  try {
    return await closedLoopRate(`${bare.info.url}/webhooks/avara`, connections, seconds);
  } finally {
    await bare.stop();
  }
}

/**
 * The product's intake with its worker held up: Avara accepts connections and never answers,
 * so the worker sits on WORKER_CONCURRENCY attempts and claims nothing else, as when Avara is
 * slow. What is measured is POST /webhooks/avara and the commit behind it.
 */
export async function productRate(dir: string, connections: number, seconds: number): Promise<number> {
  const silent = await startSilentServer();
  const serve = await startServe({
    AVARA_BASE_URL: silent.url, AVARA_API_KEY: `sk_live_${'0'.repeat(32)}`, AVARA_WEBHOOK_KEY: WEBHOOK_KEY,
    SHUTDOWN_GRACE_SECONDS: '0', FHIR_BASE_URL: 'http://127.0.0.1:9/fhir/R4', SQLITE_PATH: join(dir, 'state.db'),
  });
  try {
    return await closedLoopRate(`${serve.url}/webhooks/avara`, connections, seconds);
  } finally {
    await serve.stop();
    silent.stop();
  }
}

export async function closedLoopRate(url: string, connections: number, seconds: number): Promise<number> {
  // A first second to warm up the JIT and fill the connection pool, not counted.
  await loadClosedLoop(url, signedReportWebhooks(WEBHOOK_KEY, PREPARED_PER_SECOND, 'http://127.0.0.1'), connections, 1);
  const result = await loadClosedLoop(url, signedReportWebhooks(WEBHOOK_KEY, PREPARED_PER_SECOND * seconds, 'http://127.0.0.1'), connections, seconds);
  if (result.errors > 0) throw new Error(`${result.errors} webhooks were not answered 200 by ${url}`);
  return result.perSec;
}

/**
 * p99 of POST /webhooks/avara at a fixed modest rate, with `reportIds` being delivered meanwhile
 * (none: idle). The load's own webhooks name reports Avara does not know: their attempts fail
 * fast and cheaply, the same in both cases.
 */
async function productP99(dir: string, sandbox: RpcChild<SandboxInfo>, reportIds: string[], sizes: IntakeSizes): Promise<{ p99: number; stillRunning: boolean }> {
  const fhir = await forkRpcChild<{ baseUrl: string }>('fhir-child.ts');
  const serve = await startServe({
    AVARA_BASE_URL: sandbox.info.baseUrl, AVARA_API_KEY: sandbox.info.apiKey, AVARA_WEBHOOK_KEY: `${sandbox.info.webhookKey},${WEBHOOK_KEY}`,
    FHIR_BASE_URL: fhir.info.baseUrl, SQLITE_PATH: join(dir, 'state.db'),
  });
  const url = `${serve.url}/webhooks/avara`;
  try {
    await loadFixedRate(url, signedReportWebhooks(WEBHOOK_KEY, sizes.p99RatePerSec, sandbox.info.baseUrl), sizes.p99RatePerSec, 1);
    let sending: Promise<unknown> = Promise.resolve();
    if (reportIds.length > 0) {
      sending = sandbox.call('sendWebhooks', { url, inFlight: 4, reportIds });
      // Let the worker get going before measuring.
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
    const requests = signedReportWebhooks(WEBHOOK_KEY, sizes.p99RatePerSec * sizes.p99Seconds, sandbox.info.baseUrl);
    const result = await loadFixedRate(url, requests, sizes.p99RatePerSec, sizes.p99Seconds);
    if (result.errors > 0) throw new Error(`${result.errors} webhooks were not answered 200`);
    const stillRunning = reportIds.length > 0 && (await deliveredCount(serve.url)) < reportIds.length;
    await sending;
    return { p99: result.p99Ms, stillRunning };
  } finally {
    await serve.stop();
    await fhir.stop();
  }
}

async function deliveredCount(url: string): Promise<number> {
  const response = await fetch(`${url}/api/summary`);
  const summary = (await response.json()) as { counts?: Record<string, number> };
  return summary.counts?.delivered ?? 0;
}

/** A TCP server that accepts connections and never answers (a hung upstream). */
export function startSilentServer(): Promise<{ url: string; stop(): void }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}`,
        stop() {
          for (const socket of sockets) socket.destroy();
          server.close();
        },
      });
    });
  });
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'afs-bench-'));
  try {
    return await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
