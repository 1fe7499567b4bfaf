import type { Logger } from 'pino';
import type { StudyWriteCalls } from '../avara/study-write-calls.ts';
import type { FhirClient } from '../fhir/fhir-client.ts';
import { runAttempt, type JobAttempts, type JobLoopDeps, type JobLoopSettings } from '../queue/run-job-loop.ts';
import type { OrderEnding, OrderLease, Store } from '../store/store.ts';
import type { PipelineHooks } from '../pipeline-hooks.ts';
import type { OrderSyncSettings } from './order-attempt-deps.ts';
import { syncOrder } from './sync-order.ts';

export type OrderRunSettings = OrderSyncSettings & JobLoopSettings;

export interface OrderRunDeps {
  store: Store;
  avara: StudyWriteCalls;
  fhir: FhirClient;
  log: Logger;
  settings: OrderRunSettings;
  now: () => number;
  hooks?: PipelineHooks;
}

const UID_BUSY_RETRY_MS = 1_000;

/** Orders as one job kind on the leased-job queue: what one attempt does and how it is recorded. */
export function orderAttempts(deps: OrderRunDeps): JobAttempts<OrderLease, string, OrderEnding> {
  const { store } = deps;
  return {
    queue: store.orderQueue(),
    noun: 'order',
    logFields: (lease) => ({ order: lease.imagingStudyId }),
    async attempt(context) {
      const { lease, log } = context;
      // Two ImagingStudies with one UID must not both pass the by-uid check and create.
      const uid = (await store.orders.get(lease.imagingStudyId))?.studyInstanceUid;
      if (uid && !(await context.acquireLocks([`order-uid:${uid}`]))) return { kind: 'busy', reason: 'uid_locked', retryInMs: UID_BUSY_RETRY_MS };
      const detail = await syncOrder({ store, avara: deps.avara, fhir: deps.fhir, settings: deps.settings, context, ...(deps.hooks ? { hooks: deps.hooks } : {}) });
      return {
        kind: 'done',
        outcome: 'synced',
        ending: { kind: 'synced', detail },
        announce() {
          log.info({ outcome: 'synced', avaraStudy: detail['avaraStudy'] ?? null }, 'order synced');
        },
      };
    },
  };
}

/** Runs one leased attempt to its recorded end now (`orders sync <id>`): synced, failed, dead or released. */
export function runOrderAttempt(deps: OrderRunDeps, lease: OrderLease): Promise<string> {
  const loop: JobLoopDeps = { log: deps.log, settings: deps.settings, now: deps.now };
  return runAttempt(orderAttempts(deps), loop, lease);
}
