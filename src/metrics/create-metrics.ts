import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { POLL_LAST_SUCCESS_KEY, type Store } from '../store/store.ts';
import type { AttemptFinished } from '../queue/run-job-loop.ts';
import { registerAuditChainGauges } from './audit-chain-gauges.ts';

// Names are part of the operations contract: deploy/alerts.yml and dashboards use them.
const P = 'avara_fhir_sync_';
const SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export type Upstream = 'avara' | 'fhir';

export interface Metrics {
  /** Its own registry, not prom-client's global one: several apps can run in one process (tests). */
  registry: Registry;
  webhookReceived(type: string, outcome: string): void;
  adminAuthFailed(surface: string): void;
  attemptFinished(finished: AttemptFinished): void;
  upstreamRequest(upstream: Upstream, operation: string, outcome: string, ms: number): void;
  /** Unix ms of the last FHIR call that succeeded, or null (for /readyz). */
  fhirLastSuccessAt(): number | null;
}

export function createMetrics(store: Store, now: () => number = Date.now, targets: readonly string[] = ['fhir'], pollIntervalMs = 0): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const webhooks = new Counter({ name: `${P}webhooks_received_total`, help: 'Webhooks received, by event type and verdict (stored, duplicate, bad_signature, ...)', labelNames: ['type', 'outcome'], registers });
  const attempts = new Counter({ name: `${P}deliveries_total`, help: 'Finished delivery attempts by target and outcome (delivered, failed, dead, skipped, released, lease_lost)', labelNames: ['target', 'outcome'], registers });
  const failures = new Counter({ name: `${P}delivery_failures_total`, help: 'Failed, dead-lettered or released attempts by target and error code', labelNames: ['target', 'code'], registers });
  const authFailures = new Counter({ name: `${P}admin_auth_failures_total`, help: 'Refused admin authentications (API bearer token, /metrics, audit page sign-in) by surface', labelNames: ['surface'], registers });
  const critical = new Counter({ name: `${P}critical_reports_delivered_total`, help: 'Deliveries of studies with a critical report, by target', labelNames: ['target'], registers });
  const duration = new Histogram({ name: `${P}delivery_duration_seconds`, help: 'Duration of one delivery attempt, by target and outcome', labelNames: ['target', 'outcome'], buckets: SECONDS, registers });
  const upstream = new Histogram({ name: `${P}upstream_request_duration_seconds`, help: 'Avara and FHIR calls (including their short in-call retries) by upstream, operation and outcome (ok or error code)', labelNames: ['upstream', 'operation', 'outcome'], buckets: SECONDS, registers });
  const authOk = new Gauge({ name: `${P}upstream_auth_ok`, help: '0 while the last call to the upstream was refused for its credentials (401/403), 1 after an accepted call', labelNames: ['upstream'], registers });
  const lastSuccess = new Gauge({ name: `${P}upstream_last_success_timestamp_seconds`, help: 'Unix time of the last successful call, by upstream', labelNames: ['upstream'], registers });
  let fhirLastSuccessMs: number | null = null;

  // Read from the database on every scrape: always true, also across processes sharing the file.
  new Gauge({
    name: `${P}queue_depth`, help: 'Deliveries by target and state', labelNames: ['target', 'state'], registers,
    async collect() {
      for (const [target, counts] of Object.entries(await store.deliveries.countByTarget(targets))) {
        for (const [state, n] of Object.entries(counts)) this.set({ target, state }, n);
      }
    },
  });
  new Gauge({
    name: `${P}queue_oldest_age_seconds`, help: 'Age of the oldest delivery not yet finished (queued, in progress, failed awaiting retry); 0 when none', registers,
    async collect() {
      const oldest = await store.deliveries.oldestWaitingCreatedAt();
      this.set(oldest === null ? 0 : Math.max(0, (now() - oldest) / 1000));
    },
  });

  new Gauge({
    name: `${P}poll_last_success_timestamp_seconds`, help: 'Unix time the last reconciliation sweep completed; 0 before the first', registers,
    async collect() {
      this.set(Number((await store.settings.read(POLL_LAST_SUCCESS_KEY)) ?? 0) / 1000);
    },
  });
  new Gauge({ name: `${P}poll_interval_seconds`, help: 'POLL_INTERVAL_SECONDS: 0 when the reconciliation poller is off', registers }).set(pollIntervalMs / 1000);
  new Gauge({
    name: `${P}studies_cancelled_after_delivery`, help: 'Studies cancelled in Avara after their report reached the EHR (a person must decide)', registers,
    async collect() {
      this.set(await store.polledStudies.countCancelledAfterDelivery());
    },
  });
  registerAuditChainGauges(store, P, registers);

  return {
    registry,
    webhookReceived: (type, outcome) => webhooks.inc({ type, outcome }),
    adminAuthFailed: (surface) => authFailures.inc({ surface }),
    attemptFinished(finished) {
      const target = finished.target ?? 'fhir';
      attempts.inc({ target, outcome: finished.outcome });
      if (finished.code && finished.outcome !== 'skipped') failures.inc({ target, code: finished.code });
      if (finished.outcome === 'delivered' && finished.critical) critical.inc({ target });
      duration.observe({ target, outcome: finished.outcome }, finished.ms / 1000);
    },
    upstreamRequest(name, operation, outcome, ms) {
      upstream.observe({ upstream: name, operation, outcome }, ms / 1000);
      if (outcome === 'ok') {
        authOk.set({ upstream: name }, 1);
        lastSuccess.set({ upstream: name }, now() / 1000);
        if (name === 'fhir') fhirLastSuccessMs = now();
      } else if (outcome === `${name}_unauthorized`) {
        authOk.set({ upstream: name }, 0);
      }
    },
    fhirLastSuccessAt: () => fhirLastSuccessMs,
  };
}
