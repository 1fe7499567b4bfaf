import type { StudyWriteCalls } from '../avara/study-write-calls.ts';
import type { FhirClient } from '../fhir/fhir-client.ts';
import type { OrderMappingOptions } from './mapping/order-input.ts';
import type { AttemptContext } from '../queue/attempt-context.ts';
import type { OrderLease, Store } from '../store/store.ts';
import type { PipelineHooks } from '../pipeline-hooks.ts';

export interface OrderSyncSettings extends OrderMappingOptions {
  viewerStudies: boolean;
}

/** What one order attempt works with; its own writes go through `context`, fenced by the lease. */
export interface OrderAttemptDeps {
  store: Store;
  avara: StudyWriteCalls;
  fhir: FhirClient;
  settings: OrderSyncSettings;
  context: AttemptContext<OrderLease>;
  hooks?: PipelineHooks;
}
