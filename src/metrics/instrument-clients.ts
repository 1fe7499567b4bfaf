import { createAvaraClient, type AvaraClient } from '../avara/avara-client.ts';
import type { Config } from '../config/load-config.ts';
import { iterateStudyPages } from '../avara/iterate-study-pages.ts';
import { toSyncError } from '../errors.ts';
import { createFhirClient, type FhirClient } from '../fhir/fhir-client.ts';
import type { Metrics, Upstream } from './create-metrics.ts';

export type UpstreamMetrics = Pick<Metrics, 'upstreamRequest'>;
type Observe = (operation: string, outcome: string, ms: number) => void;

/** The Avara and FHIR clients deliveries use, configured from `config` and timed into `metrics`. */
export function createInstrumentedClients(config: Config, metrics: UpstreamMetrics): { avara: AvaraClient; fhir: FhirClient } {
  return {
    avara: instrumentAvaraClient(createAvaraClient({ baseUrl: config.avara.baseUrl, apiKey: config.avara.apiKey, pdfAllowedHosts: config.avara.pdfAllowedHosts }), metrics),
    fhir: instrumentFhirClient(createFhirClient({ baseUrl: config.fhir.baseUrl, auth: config.fhir.auth }), metrics),
  };
}

/** Times every Avara call; the outcome is `ok` or the SyncError code the client classified. */
export function instrumentAvaraClient(client: AvaraClient, metrics: UpstreamMetrics, now: () => number = Date.now): AvaraClient {
  const observe: Observe = (operation, outcome, ms) => metrics.upstreamRequest('avara', operation, outcome, ms);
  const wrapped = wrapAsyncMethods(client, observe, now, (name) => name);
  // The client's own iterateStudies pages through its unwrapped listStudiesPage; page through ours.
  wrapped.iterateStudies = (filter, options = {}) => iterateStudyPages(wrapped.listStudiesPage, filter, options.limit ?? 100);
  return wrapped;
}

/** Times every FHIR call by operation (`postTransaction`, `search:Patient`, ...). */
export function instrumentFhirClient(client: FhirClient, metrics: UpstreamMetrics, now: () => number = Date.now): FhirClient {
  const observe: Observe = (operation, outcome, ms) => metrics.upstreamRequest('fhir' satisfies Upstream, operation, outcome, ms);
  return wrapAsyncMethods(client, observe, now, (name, args) => (name === 'search' && typeof args[0] === 'string' ? `search:${args[0]}` : name));
}

function wrapAsyncMethods<T extends object>(client: T, observe: Observe, now: () => number, operationOf: (name: string, args: unknown[]) => string): T {
  const wrapped = { ...client } as Record<string, unknown>;
  for (const [name, value] of Object.entries(client)) {
    if (typeof value !== 'function') continue;
    wrapped[name] = (...args: unknown[]) => {
      const result: unknown = value.apply(client, args);
      // Generators and other synchronous results pass through untimed.
      if (!(result instanceof Promise)) return result;
      const started = now();
      const operation = operationOf(name, args);
      return result.then(
        (answer: unknown) => {
          observe(operation, 'ok', now() - started);
          return answer;
        },
        (error: unknown) => {
          observe(operation, toSyncError(error).code, now() - started);
          throw error;
        },
      );
    };
  }
  return wrapped as T;
}
