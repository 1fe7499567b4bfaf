import pg from 'pg';
import { forkRpcChild, type RpcChild } from '../child-rpc.ts';
import { withBenchDatabase } from '../pg-bench-database.ts';
import { whileBackendsPinned } from '../pin-pg-backends.ts';
import { cpuMs } from '../process-cpu.ts';
import { startServe, type ServeProcess } from '../serve-process.ts';
import type { SandboxInfo } from './delivery-product.ts';

export interface ReplicaRun {
  perSec: number;
  /** CPU of every serve together, per delivered report. */
  serveCpuMsPerReport: number;
}

// Webhooks in flight from "Avara" in total, as the delivery stage sends them: split over the
// replicas as a load balancer would, so that 2 replicas are not also offered twice the intake.
const WEBHOOKS_IN_FLIGHT = 4;

/**
 * `replicas` serve processes (default settings each) on one fresh database delivering
 * `reportIds` from the sandbox into a fresh FHIR store: timed from the first webhook to the last
 * report marked delivered. The webhooks go round-robin to the replicas; each replica's worker
 * claims from the shared queue. Every report must reach the store exactly once.
 */
export function deliverOnReplicas(sandbox: RpcChild<SandboxInfo>, reportIds: string[], replicas: number): Promise<ReplicaRun> {
  return withBenchDatabase(async (database) => {
    const fhir = await forkRpcChild<{ baseUrl: string }>('fhir-child.ts');
    const env = {
      AVARA_BASE_URL: sandbox.info.baseUrl, AVARA_API_KEY: sandbox.info.apiKey, AVARA_WEBHOOK_KEY: sandbox.info.webhookKey,
      FHIR_BASE_URL: fhir.info.baseUrl, DATABASE_URL: database.url,
    };
    let serves: ServeProcess[] = [];
    const queue = new pg.Client({ connectionString: database.url, application_name: 'afs-bench-counter' });
    try {
      // Started together, as replicas behind a load balancer are: the migration lock makes one wait.
      serves = await startAll(replicas, () => startServe(env));
      await queue.connect();
      return await whileBackendsPinned(database.name, async () => {
        const cpuBefore = serves.map((serve) => cpuMs(serve.pid));
        const started = performance.now();
        const sending = Promise.all(serves.map((serve, index) => sandbox.call<{ failures: number }>('sendWebhooks', {
          url: `${serve.url}/webhooks/avara`, inFlight: WEBHOOKS_IN_FLIGHT / replicas, reportIds: reportIds.filter((_, i) => i % replicas === index),
        })));
        await waitUntilDeliveredPg(queue, reportIds.length);
        const seconds = (performance.now() - started) / 1000;
        const serveCpuMs = serves.reduce((sum, serve, index) => sum + cpuMs(serve.pid) - cpuBefore[index]!, 0);
        if ((await sending).some((sent) => sent.failures > 0)) throw new Error('some webhooks were refused');
        const stored = await fhir.call<number>('count', 'DiagnosticReport');
        if (stored !== reportIds.length) throw new Error(`${replicas} replica(s): ${stored} DiagnosticReports in the store for ${reportIds.length} reports`);
        return { perSec: reportIds.length / seconds, serveCpuMsPerReport: serveCpuMs / reportIds.length };
      });
    } finally {
      await queue.end().catch(() => undefined);
      await Promise.all(serves.map((serve) => serve.stop()));
      await fhir.stop();
    }
  });
}

async function startAll(count: number, start: () => Promise<ServeProcess>): Promise<ServeProcess[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, start));
  const up = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (!failed) return up;
  await Promise.all(up.map((serve) => serve.stop()));
  throw failed.reason;
}

async function waitUntilDeliveredPg(client: pg.Client, expected: number): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{ delivered: number; dead: number }>(
      `SELECT count(*) FILTER (WHERE state = 'delivered')::int AS delivered, count(*) FILTER (WHERE state = 'dead')::int AS dead FROM deliveries`,
    );
    if (rows[0]!.delivered >= expected) return;
    if (rows[0]!.dead > 0) throw new Error('a delivery went dead during the benchmark');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
