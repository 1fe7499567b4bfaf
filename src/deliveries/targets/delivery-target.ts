import type { Logger } from 'pino';
import type { User } from '../../avara/schemas.ts';
import type { FhirClient } from '../../fhir/fhir-client.ts';
import type { PipelineHooks } from '../../pipeline-hooks.ts';
import type { AttemptContext } from '../../queue/attempt-context.ts';
import type { AttemptEnd, AttemptFinished } from '../../queue/run-job-loop.ts';
import type { AuditEventName, DeliveryEnding, Lease, Store } from '../../store/store.ts';
import type { AvaraReader } from '../avara-reader.ts';
import type { WorkerSettings } from '../delivery-worker.ts';

/** What every target's attempt works with; one per process, shared by the targets' loops. */
export interface TargetDeps {
  store: Store;
  log: Logger;
  avara: AvaraReader;
  fhir: FhirClient;
  settings: WorkerSettings;
  now: () => number;
  hooks?: PipelineHooks;
  onFinished?: (finished: AttemptFinished) => void;
  /** Per process: a practice has tens of radiologists and thousands of reports. */
  userCache: Map<string, User>;
}

/** One delivery target (design.md "Delivery targets"): one attempt at one report's delivery there. */
export interface DeliveryTarget {
  attempt(context: AttemptContext<Lease, AuditEventName>): Promise<AttemptEnd<DeliveryEnding>>;
  close?(): Promise<void>;
}

export type AttemptLog = Logger;
