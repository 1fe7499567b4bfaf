import { createAvaraClient, type AvaraClient } from '../avara/avara-client.ts';
import type { Config } from '../config/load-config.ts';
import { createFhirClient, type FhirClient } from '../fhir/fhir-client.ts';
import type { ObserveAttempt } from '../upstream/request-with-retries.ts';
import type { Metrics, Upstream } from './create-metrics.ts';

export type UpstreamMetrics = Pick<Metrics, 'upstreamRequest'>;

/** The Avara and FHIR clients deliveries use, configured from `config` and timed into `metrics`. */
export function createInstrumentedClients(config: Config, metrics: UpstreamMetrics): { avara: AvaraClient; fhir: FhirClient } {
  return {
    avara: createAvaraClient({ baseUrl: config.avara.baseUrl, apiKey: config.avara.apiKey, pdfAllowedHosts: config.avara.pdfAllowedHosts, observe: observeUpstream(metrics, 'avara') }),
    fhir: createFhirClient({ baseUrl: config.fhir.baseUrl, auth: config.fhir.auth, observe: observeUpstream(metrics, 'fhir') }),
  };
}

/**
 * Times whole calls by operation (`getStudy`, `postTransaction`, `search:Patient`, ...): the
 * histogram's help promises in-call retries and their waits included, so only a call's last
 * attempt is recorded, with the time since the call began and the call's outcome (`ok` or code).
 */
export function observeUpstream(metrics: UpstreamMetrics, upstream: Upstream): ObserveAttempt {
  return (report) => {
    if (report.last) metrics.upstreamRequest(upstream, report.operation, report.outcome, report.elapsedMs);
  };
}
