import type { SignedRef } from '../../src/standins/avara-sandbox/sandbox-types.ts';
import { forkRpcChild } from '../child-rpc.ts';
import { figureOf, progress, repeat, type Figure } from '../figures.ts';
import type { SandboxInfo } from './delivery-product.ts';
import { bestOf } from './delivery-stage.ts';
import { measureBareMllp, type BareMllpRun } from './hl7-bare.ts';
import { measureHl7Product, type Hl7ProductRun } from './hl7-product.ts';
import { prepareHl7Messages } from './prepare-hl7-messages.ts';

export interface Hl7Sizes {
  reports: number;
  searchReports: number;          // reports per run while looking for the best concurrency
  workerConcurrencies: number[];  // must include the default, 4
}

export interface Hl7Figures {
  reports: number;
  /** The bare MLLP sender, messages/s: the ceiling. */
  bare: Figure;
  productDefault: Figure;
  productBest: Figure;
  bestWorkerConcurrency: number;
  workerSearch: Record<string, number>;
  /** Product at the best concurrency / bare sender, per interleaved run. */
  ratio: Figure;
  /** Mean message size as the receiver got them, from the bare sender and from serve. */
  meanMessageBytes: { bare: number; product: number };
  meanPdfBytes: number;
  /** Mean ms the receiver waited between answering one message and having parsed the next. */
  receiverGapMs: { bare: number; product: number };
  breakdownMs: Hl7ProductRun['breakdownMs'];
  cpuMsPerReport: Hl7ProductRun['cpuMsPerReport'];
  bareCpuMsPerMessage: BareMllpRun['cpuMsPerMessage'];
}

const DEFAULT_WORKER_CONCURRENCY = 4;

/**
 * The hl7v2 target (serve with DELIVERY_TARGETS=hl7v2) against a bare MLLP sender, both into a
 * fresh embedded receiver in its own process, the same reports' messages: ceiling and product
 * runs alternate and each ratio is taken per run pair.
 */
export async function measureHl7(sizes: Hl7Sizes, times: number): Promise<Hl7Figures> {
  const sandbox = await forkRpcChild<SandboxInfo>('sandbox-child.ts');
  try {
    const refs = await sandbox.call<SignedRef[]>('sign', sizes.reports);
    const prepared = await prepareHl7Messages(sandbox.info, refs);
    progress(`hl7: ${refs.length} messages prepared, ${(prepared.meanMessageBytes / 1024).toFixed(0)} KiB each on average`);
    const ids = refs.map((r) => r.reportId);

    const workerSearch: Record<string, number> = {};
    if (sizes.workerConcurrencies.length > 1) {
      for (const c of sizes.workerConcurrencies) {
        workerSearch[c] = (await measureHl7Product(sandbox, ids.slice(0, sizes.searchReports), { WORKER_CONCURRENCY: String(c) })).perSec;
      }
    }
    const bestWorkerConcurrency = sizes.workerConcurrencies.length > 1 ? bestOf(workerSearch) : DEFAULT_WORKER_CONCURRENCY;
    if (sizes.workerConcurrencies.length > 1) progress(`hl7: best WORKER_CONCURRENCY ${bestWorkerConcurrency}`);

    const bareRuns: BareMllpRun[] = [];
    const defaultRuns: Hl7ProductRun[] = [];
    const bestRuns: Hl7ProductRun[] = [];
    await repeat(times, async (run) => {
      bareRuns.push(await measureBareMllp(prepared.texts));
      defaultRuns.push(await measureHl7Product(sandbox, ids, {}));
      bestRuns.push(bestWorkerConcurrency === DEFAULT_WORKER_CONCURRENCY
        ? defaultRuns.at(-1)!
        : await measureHl7Product(sandbox, ids, { WORKER_CONCURRENCY: String(bestWorkerConcurrency) }));
      const best = bestWorkerConcurrency === DEFAULT_WORKER_CONCURRENCY ? '' : `, WORKER_CONCURRENCY=${bestWorkerConcurrency} ${bestRuns.at(-1)!.perSec.toFixed(1)}`;
      progress(`hl7 run ${run + 1}: bare sender ${bareRuns.at(-1)!.perSec.toFixed(1)}, product ${defaultRuns.at(-1)!.perSec.toFixed(1)}${best} messages/s`);
    });
    const last = bestRuns.at(-1)!;
    const lastBare = bareRuns.at(-1)!;
    return {
      reports: refs.length,
      bare: figureOf(bareRuns.map((r) => r.perSec)),
      productDefault: figureOf(defaultRuns.map((r) => r.perSec)),
      productBest: figureOf(bestRuns.map((r) => r.perSec)),
      bestWorkerConcurrency,
      workerSearch,
      ratio: figureOf(bestRuns.map((r, i) => r.perSec / bareRuns[i]!.perSec)),
      meanMessageBytes: { bare: lastBare.receiver.meanMessageBytes, product: last.receiver.meanMessageBytes },
      meanPdfBytes: prepared.meanPdfBytes,
      receiverGapMs: { bare: lastBare.receiver.meanGapMs, product: last.receiver.meanGapMs },
      breakdownMs: last.breakdownMs,
      cpuMsPerReport: last.cpuMsPerReport,
      bareCpuMsPerMessage: lastBare.cpuMsPerMessage,
    };
  } finally {
    await sandbox.stop();
  }
}
