import type { SignedRef } from '../../src/standins/avara-sandbox/sandbox-types.ts';
import { forkRpcChild } from '../child-rpc.ts';
import { figureOf, progress, repeat, type Figure } from '../figures.ts';
import { measureFhirCeiling } from './delivery-ceiling.ts';
import { measureProduct, type ProductRun, type SandboxInfo } from './delivery-product.ts';
import { prepareBundles, type PreparedBundles } from './prepare-bundles.ts';

export interface DeliverySizes {
  reports: number;                 // N of the issue (2,000)
  searchReports: number;           // reports per run while looking for the best concurrency
  ceilingConcurrencies: number[];
  workerConcurrencies: number[];   // must include the default, 4
}

export interface DeliveryFigures {
  reports: number;
  ceiling: Figure;
  ceilingConcurrency: number;
  ceilingSearch: Record<string, number>;
  productDefault: Figure;
  productBest: Figure;
  /** Product at the best concurrency / ceiling, per interleaved run. */
  ratio: Figure;
  bestWorkerConcurrency: number;
  workerSearch: Record<string, number>;
  /** The last run at the best concurrency: mean ms per delivery by step, CPU per process. */
  breakdownMs: Record<string, number>;
  cpuMsPerReport: ProductRun['cpuMsPerReport'];
  ceilingFhirCpuMsPerReport: number;
  inputs: Omit<PreparedBundles, 'bodies'>;
}

const DEFAULT_WORKER_CONCURRENCY = 4;

export async function measureDelivery(sizes: DeliverySizes, times: number): Promise<DeliveryFigures> {
  const sandbox = await forkRpcChild<SandboxInfo>('sandbox-child.ts');
  try {
    const refs = await sandbox.call<SignedRef[]>('sign', sizes.reports);
    const { bodies, ...inputs } = await prepareBundles(sandbox.info, refs);
    progress(`delivery: ${refs.length} bundles prepared, ${(inputs.meanBodyBytes / 1024).toFixed(0)} KiB each on average`);

    // First the best concurrencies, on a slice; then the figures, interleaved run by run, so
    // that each ratio compares runs taken minutes apart under the same background load.
    const ids = refs.map((r) => r.reportId);
    const ceilingSearch: Record<string, number> = {};
    for (const c of sizes.ceilingConcurrencies) ceilingSearch[c] = (await measureFhirCeiling(bodies.slice(0, sizes.searchReports), c)).perSec;
    const ceilingConcurrency = bestOf(ceilingSearch);
    const workerSearch: Record<string, number> = {};
    for (const c of sizes.workerConcurrencies) {
      workerSearch[c] = (await measureProduct(sandbox, ids.slice(0, sizes.searchReports), { WORKER_CONCURRENCY: String(c) })).perSec;
    }
    const bestWorkerConcurrency = bestOf(workerSearch);
    progress(`delivery: best in flight ${ceilingConcurrency} (FHIR alone), best WORKER_CONCURRENCY ${bestWorkerConcurrency}`);

    const ceilingRuns: Awaited<ReturnType<typeof measureFhirCeiling>>[] = [];
    const defaultRuns: ProductRun[] = [];
    const bestRuns: ProductRun[] = [];
    await repeat(times, async (run) => {
      ceilingRuns.push(await measureFhirCeiling(bodies, ceilingConcurrency));
      defaultRuns.push(await measureProduct(sandbox, ids, {}));
      bestRuns.push(bestWorkerConcurrency === DEFAULT_WORKER_CONCURRENCY
        ? defaultRuns.at(-1)!
        : await measureProduct(sandbox, ids, { WORKER_CONCURRENCY: String(bestWorkerConcurrency) }));
      progress(`delivery run ${run + 1}: ceiling ${ceilingRuns.at(-1)!.perSec.toFixed(1)}, default ${defaultRuns.at(-1)!.perSec.toFixed(1)}, WORKER_CONCURRENCY=${bestWorkerConcurrency} ${bestRuns.at(-1)!.perSec.toFixed(1)} reports/s`);
    });
    const last = bestRuns.at(-1)!;
    return {
      reports: refs.length,
      ceiling: figureOf(ceilingRuns.map((r) => r.perSec)),
      ceilingConcurrency,
      ceilingSearch,
      productDefault: figureOf(defaultRuns.map((r) => r.perSec)),
      productBest: figureOf(bestRuns.map((r) => r.perSec)),
      ratio: figureOf(bestRuns.map((r, i) => r.perSec / ceilingRuns[i]!.perSec)),
      bestWorkerConcurrency,
      workerSearch,
      breakdownMs: last.breakdownMs,
      cpuMsPerReport: last.cpuMsPerReport,
      ceilingFhirCpuMsPerReport: ceilingRuns.at(-1)!.fhirCpuMsPerReport,
      inputs,
    };
  } finally {
    await sandbox.stop();
  }
}

export function bestOf(rates: Record<string, number>): number {
  return Number(Object.entries(rates).sort(([, a], [, b]) => b - a)[0]![0]);
}
