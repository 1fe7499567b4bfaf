import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqlite } from '../../src/store/open-store.ts';
import { recordWebhook } from '../../src/store/inbox.ts';
import type { SignedRef } from '../../src/standins/avara-sandbox/sandbox-types.ts';
import { forkRpcChild } from '../child-rpc.ts';
import { figureOf, progress, repeat, type Figure } from '../figures.ts';
import { httpRequest, keepAliveAgent } from '../http-request.ts';
import { startServe, type ServeProcess } from '../serve-process.ts';
import { startSilentServer, withTempDir } from './intake-stage.ts';
import type { SandboxInfo } from './delivery-product.ts';

export interface MemorySizes {
  smallQueue: number;         // 1,000
  largeQueue: number;         // 100,000
  fewDeliveries: number;      // 1,000
  manyDeliveries: number;     // 10,000
}

export interface MemoryFigures {
  queued: { small: Figure; large: Figure; ratio: number };
  /** RSS after the few and after the many deliveries, and many / few, per run (each its own serve). */
  delivered: { few: Figure; many: Figure; ratio: Figure };
}

const WEBHOOK_KEY = `whsec_${Buffer.from('bench-memory-key-0123456789abcdef').toString('base64')}`;

export async function measureMemory(sizes: MemorySizes, times: number): Promise<MemoryFigures> {
  return withTempDir(async (dir) => {
    const small = await queuedDatabase(dir, 'small', sizes.smallQueue);
    const large = await queuedDatabase(dir, 'large', sizes.largeQueue);
    const smallRss = await repeat(times, (run) => rssWithQueue(dir, small, run));
    progress(`memory, ${sizes.smallQueue} queued: ${smallRss.map((r) => r.toFixed(0)).join(', ')} MiB`);
    const largeRss = await repeat(times, (run) => rssWithQueue(dir, large, run));
    progress(`memory, ${sizes.largeQueue} queued: ${largeRss.map((r) => r.toFixed(0)).join(', ')} MiB`);
    const runs = await repeat(times, () => rssAfterDeliveries(dir, sizes));
    progress(`memory after ${sizes.fewDeliveries} / ${sizes.manyDeliveries} deliveries: ${runs.map((r) => `${r.few.toFixed(0)} / ${r.many.toFixed(0)}`).join(', ')} MiB`);
    const s = figureOf(smallRss);
    const l = figureOf(largeRss);
    const delivered = { few: figureOf(runs.map((r) => r.few)), many: figureOf(runs.map((r) => r.many)), ratio: figureOf(runs.map((r) => r.many / r.few)) };
    return { queued: { small: s, large: l, ratio: l.median / s.median }, delivered };
  });
}

/** A database as intake leaves it: `count` webhooks recorded (inbox, audit, queued delivery). */
async function queuedDatabase(dir: string, name: string, count: number): Promise<string> {
  const path = join(dir, `${name}.db`);
  const store = openSqlite({ sqlitePath: path });
  // Only this preparation skips the fsyncs; serve opens the file with synchronous=FULL.
  store.sqlite.pragma('synchronous = OFF');
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const hex = i.toString(16).padStart(32, '0');
    recordWebhook(store.db, {
      webhookId: `msg_${hex}`, eventId: `whe_${hex}`, type: 'report.delivered', bodySha256: hex.repeat(2),
      report: { reportId: `rep_${hex}`, studyId: `stu_${hex}`, isCritical: false, presignedUrl: `http://127.0.0.1/_files/rep_${hex}.pdf?sig=x` },
    }, now + i);
  }
  store.close();
  return path;
}

/**
 * `serve` on a copy of the database, Avara hung (the queue is not worked off), after the pages
 * that read the queue were served: metrics, summary, a page of deliveries, the audit page.
 */
async function rssWithQueue(dir: string, database: string, run: number): Promise<number> {
  const path = join(dir, `run-${run}-${Date.now()}.db`);
  copyFileSync(database, path);
  const silent = await startSilentServer();
  const serve = await startServe({
    AVARA_BASE_URL: silent.url, AVARA_API_KEY: `sk_live_${'0'.repeat(32)}`, AVARA_WEBHOOK_KEY: WEBHOOK_KEY,
    SHUTDOWN_GRACE_SECONDS: '0', FHIR_BASE_URL: 'http://127.0.0.1:9/fhir/R4', SQLITE_PATH: path,
  });
  try {
    const agent = keepAliveAgent(1);
    for (let i = 0; i < 3; i++) {
      for (const page of ['/metrics', '/api/summary', '/api/deliveries?limit=50', '/']) await httpRequest(agent, `${serve.url}${page}`);
    }
    agent.destroy();
    return await settledRss(serve);
  } finally {
    await serve.stop();
    silent.stop();
  }
}

/** RSS of one `serve` after `fewDeliveries` and again after `manyDeliveries` (default-size PDFs, see README). */
async function rssAfterDeliveries(dir: string, sizes: MemorySizes): Promise<{ few: number; many: number }> {
  // The embedded FHIR store keeps every PDF in memory: 10k real-sized ones would not fit.
  const sandbox = await forkRpcChild<SandboxInfo>('sandbox-child.ts', { BENCH_SEED: '91', BENCH_SMALL_PDFS: '1' });
  const fhir = await forkRpcChild<{ baseUrl: string }>('fhir-child.ts');
  let serve: ServeProcess | undefined;
  try {
    const refs = await sandbox.call<SignedRef[]>('sign', sizes.manyDeliveries);
    serve = await startServe({
      AVARA_BASE_URL: sandbox.info.baseUrl, AVARA_API_KEY: sandbox.info.apiKey, AVARA_WEBHOOK_KEY: sandbox.info.webhookKey,
      FHIR_BASE_URL: fhir.info.baseUrl, SQLITE_PATH: join(dir, `deliveries-${Date.now()}.db`),
    });
    const url = `${serve.url}/webhooks/avara`;
    const ids = refs.map((r) => r.reportId);
    await sandbox.call('sendWebhooks', { url, inFlight: 4, reportIds: ids.slice(0, sizes.fewDeliveries) });
    await waitForDelivered(serve.url, sizes.fewDeliveries);
    const few = await settledRss(serve);
    await sandbox.call('sendWebhooks', { url, inFlight: 4, reportIds: ids.slice(sizes.fewDeliveries) });
    await waitForDelivered(serve.url, sizes.manyDeliveries);
    const many = await settledRss(serve);
    return { few, many };
  } finally {
    await serve?.stop();
    await fhir.stop();
    await sandbox.stop();
  }
}

async function waitForDelivered(url: string, expected: number): Promise<void> {
  for (;;) {
    const summary = (await (await fetch(`${url}/api/summary`)).json()) as { counts?: Record<string, number> };
    if ((summary.counts?.delivered ?? 0) >= expected) return;
    if ((summary.counts?.dead ?? 0) > 0) throw new Error('a delivery went dead during the memory benchmark');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** After two quiet seconds (timers, GC), the median of five samples a quarter second apart. */
async function settledRss(serve: ServeProcess): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(serve.rssMiB());
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return figureOf(samples).median;
}
