import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkRpcChild, type RpcChild } from '../child-rpc.ts';
import { httpRequest, keepAliveAgent } from '../http-request.ts';
import { parsePrometheusText, sumOf, type Sample } from '../prometheus-text.ts';
import { startServe, type ServeProcess } from '../serve-process.ts';
import { cpuMs } from '../process-cpu.ts';

export interface SandboxInfo {
  baseUrl: string;
  apiKey: string;
  webhookKey: string;
}

export interface ProductRun {
  perSec: number;
  /** Mean wall time per delivered report, by step, from the product's own /metrics. */
  breakdownMs: Record<string, number>;
  released: number;
  /** Resident set size of `serve` when the last report was delivered. */
  rssMiB: number;
  /** CPU time per delivered report of each process taking part. */
  cpuMsPerReport: { serve: number; fhirStore: number; sandbox: number };
  /** From the first webhook to the last delivery, on the monotonic clock a .cpuprofile uses (µs). */
  windowUs: { fromUs: number; toUs: number };
}

/** Something put between serve and the store (the recording proxy): serve is given its URL. */
export type Interpose = (fhirBaseUrl: string) => Promise<{ fhirBaseUrl: string; startRecording(): void; stop(): Promise<void> }>;

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * `serve` (own process, own SQLite file) delivering `reportIds` from the sandbox child into a
 * fresh FHIR store child: timed from the first webhook to the last report marked delivered.
 */
export async function measureProduct(sandbox: RpcChild<SandboxInfo>, reportIds: string[], env: Record<string, string>, interpose?: Interpose): Promise<ProductRun> {
  const dir = mkdtempSync(join(tmpdir(), 'afs-bench-'));
  const fhir = await forkRpcChild<{ baseUrl: string }>('fhir-child.ts');
  const between = await interpose?.(fhir.info.baseUrl);
  let serve: ServeProcess | undefined;
  try {
    const sqlitePath = join(dir, 'state.db');
    serve = await startServe({
      AVARA_BASE_URL: sandbox.info.baseUrl, AVARA_API_KEY: sandbox.info.apiKey, AVARA_WEBHOOK_KEY: sandbox.info.webhookKey,
      FHIR_BASE_URL: between?.fhirBaseUrl ?? fhir.info.baseUrl, SQLITE_PATH: sqlitePath, ...env,
    });
    const db = new Database(sqlitePath, { readonly: true });
    const pids = { serve: serve.pid, fhirStore: fhir.pid, sandbox: sandbox.pid };
    between?.startRecording();
    const cpuBefore = mapValues(pids, cpuMs);
    const fromUs = monotonicUs();
    const started = performance.now();
    const sending = sandbox.call<{ failures: number }>('sendWebhooks', { url: `${serve.url}/webhooks/avara`, inFlight: 4, reportIds });
    await waitUntilDelivered(db, reportIds.length);
    const seconds = (performance.now() - started) / 1000;
    const toUs = monotonicUs();
    const rss = serve.rssMiB();
    const cpuAfter = mapValues(pids, cpuMs);
    const cpuMsPerReport = mapValues(pids, (pid, name) => (cpuAfter[name] - cpuBefore[name]) / reportIds.length);
    if ((await sending).failures > 0) throw new Error('some webhooks were refused');
    db.close();
    const samples = await scrapeMetrics(serve.url);
    return {
      perSec: reportIds.length / seconds, breakdownMs: breakdown(samples), released: sumOf(samples, 'avara_fhir_sync_deliveries_total', { outcome: 'released' }),
      rssMiB: rss, cpuMsPerReport, windowUs: { fromUs, toUs },
    };
  } finally {
    await serve?.stop();
    await between?.stop();
    await fhir.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function mapValues<K extends string>(pids: Record<K, number>, read: (pid: number, name: K) => number): Record<K, number> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, read(pid as number, name as K)])) as Record<K, number>;
}

export async function waitUntilDelivered(db: Database.Database, expected: number): Promise<void> {
  const count = db.prepare(`SELECT count(*) AS n FROM deliveries WHERE state = 'delivered'`);
  const stuck = db.prepare(`SELECT count(*) AS n FROM deliveries WHERE state = 'dead'`);
  for (;;) {
    if ((count.get() as { n: number }).n >= expected) return;
    if ((stuck.get() as { n: number }).n > 0) throw new Error('a delivery went dead during the benchmark');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function scrapeMetrics(url: string): Promise<Sample[]> {
  const agent = keepAliveAgent(1);
  const answer = await httpRequest(agent, `${url}/metrics`);
  agent.destroy();
  return parsePrometheusText(answer.body.toString('utf8'));
}

export const AVARA_STEPS: [string, string, string][] = [
  ['avara: study + report list', 'avara', 'getStudy|listReports'],
  ['avara: text', 'avara', 'getReportText'],
  ['avara: PDF download', 'avara', 'downloadPdf|getReportPdfUrl'],
  ['avara: signer', 'avara', 'getUser'],
];

const STEPS: [string, string, string][] = [
  ...AVARA_STEPS,
  ['fhir: practitioner + patient search', 'fhir', 'search:Practitioner|search:Patient'],
  ['fhir: transaction', 'fhir', 'postTransaction'],
  ['fhir: read-back', 'fhir', 'search:DiagnosticReport'],
];

export function breakdown(samples: Sample[], steps: [string, string, string][] = STEPS): Record<string, number> {
  const delivered = sumOf(samples, 'avara_fhir_sync_delivery_duration_seconds_count', { outcome: 'delivered' });
  const total = (sumOf(samples, 'avara_fhir_sync_delivery_duration_seconds_sum', { outcome: 'delivered' }) * 1000) / delivered;
  const result: Record<string, number> = { 'delivery attempt (total)': total };
  for (const [label, upstream, operations] of steps) {
    let ms = 0;
    for (const operation of operations.split('|')) {
      ms += sumOf(samples, 'avara_fhir_sync_upstream_request_duration_seconds_sum', { upstream, operation }) * 1000;
    }
    result[label] = ms / delivered;
  }
  return result;
}
