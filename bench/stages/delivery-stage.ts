import type { SignedRef } from '../../src/standins/avara-sandbox/sandbox-types.ts';
import { forkRpcChild } from '../child-rpc.ts';
import { figureOf, progress, repeat, type Figure } from '../figures.ts';
import { measureFhirCeiling } from './delivery-ceiling.ts';
import { measureProduct, type ProductRun, type SandboxInfo } from './delivery-product.ts';
import { profileServeByStage } from './delivery-profile.ts';
import { measureReplayCeiling, recordProductRequests, transactionBodies } from './delivery-replay.ts';
import { measurePureSteps, type PureSteps } from './measure-pure-steps.ts';

export interface DeliverySizes {
  reports: number;                 // N of the issue (2,000)
  searchReports: number;           // reports per run while looking for the best concurrency, and profiled
  pureStepReports: number;         // reports whose pure steps are timed in this process
  ceilingConcurrencies: number[];
  workerConcurrencies: number[];   // must include the default, 4
}

export interface DeliveryFigures {
  reports: number;
  /** The store answering exactly the product's requests per report, replayed by a bare client. */
  replayCeiling: Figure;
  replayConcurrency: number;
  replaySearch: Record<string, number>;
  /** Mean FHIR requests per report in the recording (3 plus the first searches of new signers). */
  replayRequestsPerReport: number;
  /** The store taking the product's transaction bundles only. */
  ceiling: Figure;
  ceilingConcurrency: number;
  ceilingSearch: Record<string, number>;
  productDefault: Figure;
  productBest: Figure;
  /** Product at the best concurrency / replay ceiling, per interleaved run. */
  ratio: Figure;
  /** Product at the best concurrency / bare-bundle ceiling, per interleaved run. */
  bareRatio: Figure;
  bestWorkerConcurrency: number;
  workerSearch: Record<string, number>;
  /** The last run at the best concurrency: mean wall ms per delivery by step. */
  breakdownMs: Record<string, number>;
  /** CPU ms per delivered report in the best-concurrency runs: serve, the store, the sandbox. */
  serveCpuMsPerReport: Figure;
  storeCpuMsPerReport: Figure;
  sandboxCpuMsPerReport: Figure;
  /** serve / store CPU per report, per run. */
  cpuRatio: Figure;
  replayStoreCpuMsPerReport: Figure;
  bareStoreCpuMsPerReport: Figure;
  /** Profile ms per report by stage of serve, from one profiled run at the best concurrency. */
  serveProfileMsByStage: Record<string, number>;
  pureSteps: PureSteps;
}

const DEFAULT_WORKER_CONCURRENCY = 4;

export async function measureDelivery(sizes: DeliverySizes, times: number): Promise<DeliveryFigures> {
  const sandbox = await forkRpcChild<SandboxInfo>('sandbox-child.ts');
  try {
    const refs = await sandbox.call<SignedRef[]>('sign', sizes.reports);
    const ids = refs.map((r) => r.reportId);
    const pureSteps = await measurePureSteps(sandbox.info, refs.slice(0, sizes.pureStepReports));
    progress(`delivery: pure steps on ${pureSteps.reports} reports, bundles ${(pureSteps.meanBodyBytes / 1024).toFixed(0)} KiB on average`);
    const recorded = await recordProductRequests(sandbox, ids);
    const bodies = transactionBodies(recorded);
    const perReport = recorded.reports.reduce((sum, r) => sum + r.length, 0) / recorded.reports.length;
    progress(`delivery: recorded serve's FHIR requests for ${recorded.reports.length} reports (${perReport.toFixed(2)} per report)`);

    // First the best concurrencies, on a slice; then the figures, interleaved run by run, so
    // that each ratio compares runs taken minutes apart under the same background load.
    const searchCount = Math.min(sizes.searchReports, refs.length);
    const replaySearch: Record<string, number> = {};
    const ceilingSearch: Record<string, number> = {};
    for (const c of sizes.ceilingConcurrencies) {
      replaySearch[c] = (await measureReplayCeiling(recorded, c, searchCount)).perSec;
      ceilingSearch[c] = (await measureFhirCeiling(bodies.slice(0, searchCount), c)).perSec;
    }
    const replayConcurrency = bestOf(replaySearch);
    const ceilingConcurrency = bestOf(ceilingSearch);
    const workerSearch: Record<string, number> = {};
    for (const c of sizes.workerConcurrencies) {
      workerSearch[c] = (await measureProduct(sandbox, ids.slice(0, searchCount), { WORKER_CONCURRENCY: String(c) })).perSec;
    }
    const bestWorkerConcurrency = bestOf(workerSearch);
    progress(`delivery: best in flight ${replayConcurrency} (replay), ${ceilingConcurrency} (bare bundles), best WORKER_CONCURRENCY ${bestWorkerConcurrency}`);
    const best = { WORKER_CONCURRENCY: String(bestWorkerConcurrency) };
    const serveProfileMsByStage = await profileServeByStage(sandbox, ids.slice(0, searchCount), best);

    const replayRuns: Awaited<ReturnType<typeof measureReplayCeiling>>[] = [];
    const ceilingRuns: Awaited<ReturnType<typeof measureFhirCeiling>>[] = [];
    const defaultRuns: ProductRun[] = [];
    const bestRuns: ProductRun[] = [];
    await repeat(times, async (run) => {
      replayRuns.push(await measureReplayCeiling(recorded, replayConcurrency));
      ceilingRuns.push(await measureFhirCeiling(bodies, ceilingConcurrency));
      defaultRuns.push(await measureProduct(sandbox, ids, {}));
      bestRuns.push(bestWorkerConcurrency === DEFAULT_WORKER_CONCURRENCY ? defaultRuns.at(-1)! : await measureProduct(sandbox, ids, best));
      const last = bestRuns.at(-1)!;
      progress(`delivery run ${run + 1}: replay ceiling ${replayRuns.at(-1)!.perSec.toFixed(1)}, bare bundles ${ceilingRuns.at(-1)!.perSec.toFixed(1)}, default ${defaultRuns.at(-1)!.perSec.toFixed(1)}, WORKER_CONCURRENCY=${bestWorkerConcurrency} ${last.perSec.toFixed(1)} reports/s; CPU ms/report serve ${last.cpuMsPerReport.serve.toFixed(1)}, store ${last.cpuMsPerReport.fhirStore.toFixed(1)}`);
    });
    return {
      reports: refs.length,
      replayCeiling: figureOf(replayRuns.map((r) => r.perSec)),
      replayConcurrency,
      replaySearch,
      replayRequestsPerReport: perReport,
      ceiling: figureOf(ceilingRuns.map((r) => r.perSec)),
      ceilingConcurrency,
      ceilingSearch,
      productDefault: figureOf(defaultRuns.map((r) => r.perSec)),
      productBest: figureOf(bestRuns.map((r) => r.perSec)),
      ratio: figureOf(bestRuns.map((r, i) => r.perSec / replayRuns[i]!.perSec)),
      bareRatio: figureOf(bestRuns.map((r, i) => r.perSec / ceilingRuns[i]!.perSec)),
      bestWorkerConcurrency,
      workerSearch,
      breakdownMs: bestRuns.at(-1)!.breakdownMs,
      serveCpuMsPerReport: figureOf(bestRuns.map((r) => r.cpuMsPerReport.serve)),
      storeCpuMsPerReport: figureOf(bestRuns.map((r) => r.cpuMsPerReport.fhirStore)),
      sandboxCpuMsPerReport: figureOf(bestRuns.map((r) => r.cpuMsPerReport.sandbox)),
      cpuRatio: figureOf(bestRuns.map((r) => r.cpuMsPerReport.serve / r.cpuMsPerReport.fhirStore)),
      replayStoreCpuMsPerReport: figureOf(replayRuns.map((r) => r.storeCpuMsPerReport)),
      bareStoreCpuMsPerReport: figureOf(ceilingRuns.map((r) => r.fhirCpuMsPerReport)),
      serveProfileMsByStage,
      pureSteps,
    };
  } finally {
    await sandbox.stop();
  }
}

export function bestOf(rates: Record<string, number>): number {
  return Number(Object.entries(rates).sort(([, a], [, b]) => b - a)[0]![0]);
}
