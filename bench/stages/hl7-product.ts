import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MllpReceiverCounts } from '../children/mllp-child.ts';
import { forkRpcChild, type RpcChild } from '../child-rpc.ts';
import { cpuMs } from '../process-cpu.ts';
import { startServe, type ServeProcess } from '../serve-process.ts';
import { AVARA_STEPS, breakdown, mapValues, scrapeMetrics, waitUntilDelivered, type SandboxInfo } from './delivery-product.ts';
import { BENCH_HL7_SETTINGS } from './prepare-hl7-messages.ts';

export interface Hl7ProductRun {
  perSec: number;
  receiver: MllpReceiverCounts;
  /** Mean wall ms per delivered report: the attempt and its Avara calls (from /metrics), the send (from the audit). */
  breakdownMs: Record<string, number>;
  cpuMsPerReport: { serve: number; receiver: number; sandbox: number };
}

/**
 * `serve` (own process, own SQLite file) delivering `reportIds` from the sandbox child to the
 * hl7v2 target only, into a fresh MLLP receiver child: timed from the first webhook to the last
 * report marked delivered (its ACK recorded).
 */
export async function measureHl7Product(sandbox: RpcChild<SandboxInfo>, reportIds: string[], env: Record<string, string>): Promise<Hl7ProductRun> {
  const dir = mkdtempSync(join(tmpdir(), 'afs-bench-hl7-'));
  const receiver = await forkRpcChild<{ host: string; port: number }>('mllp-child.ts');
  let serve: ServeProcess | undefined;
  try {
    const sqlitePath = join(dir, 'state.db');
    serve = await startServe({
      AVARA_BASE_URL: sandbox.info.baseUrl, AVARA_API_KEY: sandbox.info.apiKey, AVARA_WEBHOOK_KEY: sandbox.info.webhookKey,
      // Required by serve, never called: the only target is hl7v2.
      FHIR_BASE_URL: 'http://127.0.0.1:9/fhir',
      HL7_HOST: receiver.info.host, HL7_PORT: String(receiver.info.port), SQLITE_PATH: sqlitePath, ...BENCH_HL7_SETTINGS, ...env,
    });
    const db = new Database(sqlitePath, { readonly: true });
    const pids = { serve: serve.pid, receiver: receiver.pid, sandbox: sandbox.pid };
    const cpuBefore = mapValues(pids, cpuMs);
    const started = performance.now();
    const sending = sandbox.call<{ failures: number }>('sendWebhooks', { url: `${serve.url}/webhooks/avara`, inFlight: 4, reportIds });
    await waitUntilDelivered(db, reportIds.length);
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = mapValues(pids, cpuMs);
    const cpuMsPerReport = mapValues(pids, (pid, name) => (cpuAfter[name] - cpuBefore[name]) / reportIds.length);
    if ((await sending).failures > 0) throw new Error('some webhooks were refused');
    const targets = db.prepare(`SELECT DISTINCT target FROM deliveries`).pluck().all() as string[];
    if (targets.join() !== 'hl7v2') throw new Error(`deliveries to ${targets.join()}, not hl7v2 only`);
    const sendMs = db.prepare(`
      SELECT avg(d.delivered_at - s.at) FROM deliveries d
      JOIN audit_events s ON s.report_id = d.report_id AND s.event = 'hl7_sent'
      WHERE d.state = 'delivered'`).pluck().get() as number;
    db.close();
    const counts = await receiver.call<MllpReceiverCounts>('counts');
    if (counts.accepted !== reportIds.length || counts.received !== reportIds.length) {
      throw new Error(`the receiver got ${counts.received} messages with ${counts.accepted} distinct control ids for ${reportIds.length} reports`);
    }
    const breakdownMs = { ...breakdown(await scrapeMetrics(serve.url), AVARA_STEPS), 'hl7: hl7_sent recorded -> ACK recorded': sendMs };
    return { perSec: reportIds.length / seconds, receiver: counts, breakdownMs, cpuMsPerReport };
  } finally {
    await serve?.stop();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
