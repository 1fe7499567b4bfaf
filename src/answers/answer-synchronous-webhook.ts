import type { Logger } from 'pino';
import {
  ClinicalContextRequestSchema, EnrichmentRequestSchema, SYNC_ANSWERED_TYPES, WorklistRequestSchema, type SyncAnsweredType,
} from '../avara/synchronous-webhook-schemas.ts';
import { SyncError } from '../errors.ts';
import type { FhirClient } from '../fhir/fhir-client.ts';
import { mapClinicalContextAnswer } from './mapping/map-clinical-context-answer.ts';
import { mapEnrichmentAnswer } from './mapping/map-enrichment-answer.ts';
import { mapWorklistItems } from './mapping/map-worklist-items.ts';
import type { SyncAnswerOptions } from './mapping/answer-types.ts';
import type { Store } from '../store/store.ts';
import { createSearchCache, DeadlineExceeded, type BudgetedSearch } from './budgeted-search.ts';
import { readClinicalContextInput } from './read-clinical-context-input.ts';
import { readFoundOrder, type OrderLookup } from './read-found-order.ts';
import { readWorklistOrders } from './read-worklist-orders.ts';

export interface SyncWebhookSettings extends SyncAnswerOptions {
  /** SYNC_WEBHOOK_BUDGET_MS: the whole answer, FHIR searches and mapping included. */
  budgetMs: number;
  /** WORKLIST_ALLOWED_AE_TITLES; undefined lets every modality ask. */
  worklistAllowedAeTitles: string[] | undefined;
  cacheTtlMs?: number;
}

export interface SyncWebhookDeps {
  /** A client without in-call retries: there is no time for a second try inside the budget. */
  fhir: FhirClient;
  store: Store;
  log: Logger;
  now?: () => number;
  settings: SyncWebhookSettings;
}

/** What was answered and why, for the audit row, the log line and the metrics; ids and counts only. */
interface Verdict {
  body: unknown;
  outcome: string;
  detail: Record<string, unknown>;
}

export interface SyncWebhookAnswerer {
  handles(type: string): type is SyncAnsweredType;
  /** Never rejects: a failure or a spent budget is the soft answer of the event type. */
  answer(type: SyncAnsweredType, data: unknown, ids: { eventId: string }): Promise<{ body: unknown; outcome: string }>;
}

// Leaves time to map, audit and write the answer after the last search returned.
const MARGIN_MS = 50;
const DEFAULT_CACHE_TTL_MS = 10_000;
const CACHE_MAX_ENTRIES = 2_000;

/** avara-api.md §7.3.5–7.3.7 answered from the EHR's FHIR server within SYNC_WEBHOOK_BUDGET_MS. */
export function createSyncWebhookAnswerer(deps: SyncWebhookDeps): SyncWebhookAnswerer {
  const now = deps.now ?? Date.now;
  const { settings } = deps;
  const cache = createSearchCache(deps.fhir, { ttlMs: settings.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS, maxEntries: CACHE_MAX_ENTRIES, now });
  const answerers: Record<SyncAnsweredType, (search: BudgetedSearch, data: unknown) => Promise<Verdict>> = {
    'patient_study.enrichment_requested': (search, data) => answerEnrichment(search, data, settings),
    'clinical_context.enrichment_requested': (search, data) => answerClinicalContext(search, data, settings),
    'modality_worklist.requested': (search, data) => answerWorklist(search, data, settings),
  };
  return {
    handles: (type): type is SyncAnsweredType => (SYNC_ANSWERED_TYPES as readonly string[]).includes(type),
    async answer(type, data, ids) {
      const startedAt = now();
      const deadlineAt = startedAt + Math.max(settings.budgetMs - MARGIN_MS, settings.budgetMs / 2);
      let verdict: Verdict;
      try {
        verdict = await answerers[type](cache.within(deadlineAt), data);
      } catch (error) {
        verdict = softVerdict(type, failureCode(error));
      }
      const ms = now() - startedAt;
      await record(deps, type, ids.eventId, verdict, ms, startedAt);
      return { body: verdict.body, outcome: verdict.outcome };
    },
  };
}

async function answerEnrichment(search: BudgetedSearch, data: unknown, settings: SyncWebhookSettings): Promise<Verdict> {
  const request = EnrichmentRequestSchema.safeParse(data);
  if (!request.success) return softVerdict('patient_study.enrichment_requested', 'invalid_data');
  const { studyInstanceUid, accessionNumber, patientId } = request.data;
  const lookup = await readFoundOrder(search, { studyInstanceUid, accessionNumber, mrn: patientId }, settings.mrnSystem);
  const body = lookup.verdict === 'found' ? mapEnrichmentAnswer(lookup.found, settings) : {};
  return { body, outcome: lookup.verdict, detail: { ...foundIds(lookup), fields: Object.keys(body) } };
}

async function answerClinicalContext(search: BudgetedSearch, data: unknown, settings: SyncWebhookSettings): Promise<Verdict> {
  const request = ClinicalContextRequestSchema.safeParse(data);
  if (!request.success) return softVerdict('clinical_context.enrichment_requested', 'invalid_data');
  const { studyInstanceUid, mrn, externalPatientId } = request.data;
  const lookup = await readClinicalContextInput(search, { studyInstanceUid, mrn, patientRef: externalPatientId }, settings.mrnSystem);
  if (!lookup.input) return { body: {}, outcome: lookup.verdict, detail: { fields: [] } };
  const body = mapClinicalContextAnswer(lookup.input, settings);
  return {
    body,
    outcome: 'found',
    detail: {
      ...foundIds({ verdict: 'found', found: lookup.input }),
      fields: Object.keys(body),
      priorReports: body.priorReports?.length ?? 0,
      documents: body.documents?.length ?? 0,
    },
  };
}

async function answerWorklist(search: BudgetedSearch, data: unknown, settings: SyncWebhookSettings): Promise<Verdict> {
  const request = WorklistRequestSchema.safeParse(data);
  if (!request.success) {
    const fields = [...new Set(request.error.issues.map((i) => i.path.join('.')))].join(', ');
    return { body: { authorized: true, items: [], error: `invalid worklist request: ${fields}` }, outcome: 'invalid_data', detail: { fields } };
  }
  const { callingAe, dateStart, dateEnd, modality } = request.data;
  const query = { callingAe, dateStart, dateEnd, ...(modality ? { modality } : {}) };
  if (settings.worklistAllowedAeTitles && !settings.worklistAllowedAeTitles.includes(callingAe)) {
    return { body: { authorized: false, items: [], error: 'calling AE title is not allowed to query this worklist' }, outcome: 'ae_not_allowed', detail: query };
  }
  const orders = await readWorklistOrders(search, { dateStart, dateEnd });
  const items = mapWorklistItems(orders, { dateStart, dateEnd, modality }, settings);
  return { body: { authorized: true, items }, outcome: items.length > 0 ? 'found' : 'not_found', detail: { ...query, orders: orders.length, items: items.length } };
}

/** avara-api.md §7.3.6/7.3.7 soft: `{}`; §7.3.5: authorized with nothing scheduled and the reason. */
function softVerdict(type: SyncAnsweredType, code: string): Verdict {
  const body = type === 'modality_worklist.requested' ? { authorized: true, items: [], error: `EHR worklist unavailable (${code})` } : {};
  return { body, outcome: code, detail: {} };
}

function failureCode(error: unknown): string {
  if (error instanceof DeadlineExceeded) return 'timeout';
  if (error instanceof SyncError) return error.code;
  return 'internal';
}

function foundIds(lookup: OrderLookup): Record<string, string> {
  const { patient, serviceRequest, imagingStudy } = lookup.found;
  return Object.fromEntries(
    Object.entries({ patient: patient?.id, serviceRequest: serviceRequest?.id, imagingStudy: imagingStudy?.id }).filter(([, id]) => id !== undefined),
  ) as Record<string, string>;
}

/** One audit row and one log line per answer: ids, counts, field names, the outcome and the time; no PHI. */
async function record(deps: SyncWebhookDeps, type: SyncAnsweredType, eventId: string, verdict: Verdict, ms: number, at: number): Promise<void> {
  const detail = { type, eventId, outcome: verdict.outcome, ms, ...verdict.detail };
  try {
    await deps.store.audit.append({ reportId: null, event: 'sync_webhook_answered', at, detail });
  } catch (error) {
    // The answer still goes out: Avara is waiting, and a missing audit row is a person's problem.
    deps.log.error({ type, eventId, code: (error as { code?: string }).code }, 'synchronous webhook answer not audited: database unavailable');
  }
  const level = verdict.outcome === 'timeout' || verdict.outcome.startsWith('fhir_') || verdict.outcome === 'internal' ? 'warn' : 'info';
  deps.log[level](detail, 'synchronous webhook answered');
}
