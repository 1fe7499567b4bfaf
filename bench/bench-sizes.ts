import type { DeliverySizes } from './stages/delivery-stage.ts';
import type { Hl7Sizes } from './stages/hl7-stage.ts';
import type { IntakeSizes } from './stages/intake-stage.ts';
import type { MemorySizes } from './stages/memory-stage.ts';

export interface BenchSizes {
  times: number;
  delivery: DeliverySizes;
  intake: IntakeSizes;
  memory: MemorySizes;
  pollerStudies: number;
  hl7: Hl7Sizes;
}

/** The numbers. */
export const FULL: BenchSizes = {
  times: 3,
  delivery: { reports: 2000, searchReports: 300, pureStepReports: 200, ceilingConcurrencies: [1, 2, 4, 8, 16], workerConcurrencies: [2, 4, 8, 16] },
  intake: { seconds: 10, connections: [10, 100], p99RatePerSec: 20, p99Seconds: 30, loadedDeliveries: 2000 },
  memory: { smallQueue: 1000, largeQueue: 100_000, fewDeliveries: 1000, manyDeliveries: 10_000 },
  pollerStudies: 10_000,
  hl7: { reports: 1000, searchReports: 300, workerConcurrencies: [1, 4, 8] },
};

/** Same stages, smaller numbers, each figure once: a fast check in under 3 minutes. */
export const QUICK: BenchSizes = {
  times: 1,
  delivery: { reports: 40, searchReports: 20, pureStepReports: 20, ceilingConcurrencies: [8], workerConcurrencies: [4, 8] },
  intake: { seconds: 2, connections: [10, 100], p99RatePerSec: 20, p99Seconds: 3, loadedDeliveries: 100 },
  memory: { smallQueue: 1000, largeQueue: 5_000, fewDeliveries: 30, manyDeliveries: 100 },
  pollerStudies: 1000,
  hl7: { reports: 100, searchReports: 100, workerConcurrencies: [4] },
};
