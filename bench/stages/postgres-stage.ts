import type { SignedRef } from '../../src/standins/avara-sandbox/sandbox-types.ts';
import { forkRpcChild } from '../child-rpc.ts';
import { figureOf, progress, repeat, type Figure } from '../figures.ts';
import { describePgServer } from '../pg-bench-database.ts';
import type { SandboxInfo } from './delivery-product.ts';
import { deliverOnReplicas, type ReplicaRun } from './postgres-delivery.ts';
import { barePgRate, productPgRate } from './postgres-intake.ts';

export interface PostgresSizes {
  intakeSeconds: number;       // per closed-loop run
  intakeConnections: number[]; // as the SQLite intake stage: [10, 100]
  deliveryReports: number;     // delivered by 1 replica, then by 2, per run
}

/** Full: the SQLite intake's 10 s; 400 reports, a minute or more per delivery run on two cores. */
export const POSTGRES_FULL: PostgresSizes = { intakeSeconds: 10, intakeConnections: [10, 100], deliveryReports: 400 };
// Quick: intakeRatio is taken at 10 connections; 100 and a larger N cost more starts of serve than they tell.
export const POSTGRES_QUICK: PostgresSizes = { intakeSeconds: 2, intakeConnections: [10], deliveryReports: 20 };

export interface PostgresFigures {
  server: { version: string; host: string; synchronousCommit: string };
  /** Where the PostgreSQL processes ran. */
  placement: string;
  intake: Record<string, { bare: Figure; product: Figure; ratio: Figure }>;
  deliveryReports: number;
  delivery1: Figure;
  delivery2: Figure;
  /** 2 replicas / 1 replica, per interleaved run. */
  deliveryRatio: Figure;
  serveCpuMsPerReport: { replicas1: Figure; replicas2: Figure };
  seconds: number;
}

export async function measurePostgres(sizes: PostgresSizes, times: number): Promise<PostgresFigures> {
  const started = performance.now();
  const server = await describePgServer();
  const placement = placementNote();
  progress(`postgres: PostgreSQL ${server.version} at ${server.host}, synchronous_commit=${server.synchronousCommit}; ${placement}`);
  const intake: PostgresFigures['intake'] = {};
  for (const connections of sizes.intakeConnections) {
    // Interleaved, bare then product in each run, so both see the same background load.
    const runs = await repeat(times, async () => ({
      bare: await barePgRate(connections, sizes.intakeSeconds),
      product: await productPgRate(connections, sizes.intakeSeconds),
    }));
    progress(`postgres intake, ${connections} connections, bare / product: ${runs.map((r) => `${r.bare.toFixed(0)} / ${r.product.toFixed(0)}`).join(', ')} /s`);
    intake[String(connections)] = {
      bare: figureOf(runs.map((r) => r.bare)),
      product: figureOf(runs.map((r) => r.product)),
      ratio: figureOf(runs.map((r) => r.product / r.bare)),
    };
  }
  if (sizes.deliveryReports === 0) {
    // --pg-delivery-reports=0: the intake part only, minutes shorter when that is what is studied.
    progress('postgres delivery: not measured (--pg-delivery-reports=0)');
    const none = figureOf([NaN]);
    return { server, placement, intake, deliveryReports: 0, delivery1: none, delivery2: none, deliveryRatio: none, serveCpuMsPerReport: { replicas1: none, replicas2: none }, seconds: (performance.now() - started) / 1000 };
  }
  const sandbox = await forkRpcChild<SandboxInfo>('sandbox-child.ts', { BENCH_SEED: '19' });
  try {
    const ids = (await sandbox.call<SignedRef[]>('sign', sizes.deliveryReports)).map((ref) => ref.reportId);
    const runs = await repeat(times, async (): Promise<{ one: ReplicaRun; two: ReplicaRun }> => ({
      one: await deliverOnReplicas(sandbox, ids, 1),
      two: await deliverOnReplicas(sandbox, ids, 2),
    }));
    progress(`postgres delivery, ${ids.length} reports, 1 / 2 replicas: ${runs.map((r) => `${r.one.perSec.toFixed(1)} / ${r.two.perSec.toFixed(1)}`).join(', ')} reports/s`);
    return {
      server,
      placement,
      intake,
      deliveryReports: ids.length,
      delivery1: figureOf(runs.map((r) => r.one.perSec)),
      delivery2: figureOf(runs.map((r) => r.two.perSec)),
      deliveryRatio: figureOf(runs.map((r) => r.two.perSec / r.one.perSec)),
      serveCpuMsPerReport: { replicas1: figureOf(runs.map((r) => r.one.serveCpuMsPerReport)), replicas2: figureOf(runs.map((r) => r.two.serveCpuMsPerReport)) },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await sandbox.stop();
  }
}

function placementNote(): string {
  const core = process.env.BENCH_EHR_CORE;
  const shared = 'its postmaster, WAL writer and checkpointer, shared with other work on this machine, stay on both cores';
  if (core === undefined) return `PostgreSQL NOT pinned: ${shared}, as do its backends`;
  return `PostgreSQL backends of the bench's own databases pinned to core ${core} (taskset on their pids from pg_stat_activity), with the EHR stand-ins; ${shared}`;
}
