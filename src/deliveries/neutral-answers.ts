// What we answer for Avara event types this service does not (yet) act on, each the neutral
// body its spec allows (avara-api.md §7.3, §7.4). We are not an image archive, so access
// requests are refused explicitly rather than left to time out.
const NOT_SUPPORTED = 'not supported by avara-fhir-sync';

/** The event types avara-api.md §7.3 documents. */
const DOCUMENTED_TYPES = new Set([
  'report.delivered', 'study.access_requested', 'ephemeral.access_requested', 'secondary_capture.access_requested',
  'modality_worklist.requested', 'patient_study.enrichment_requested', 'clinical_context.enrichment_requested',
]);

/**
 * What a type may be called in a metric label or a log line: a documented type as it is, any
 * other `other`. A signed sender (or a future Avara) chooses `type`; as a label it would make one
 * series per value, without bound.
 */
export function typeLabel(type: string): string {
  return DOCUMENTED_TYPES.has(type) ? type : 'other';
}

/** The sent type for a log line: kept (it helps to see what Avara started sending), but short and printable. */
export function typeForLog(type: string): string {
  const printable = type.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 64 ? `${printable.slice(0, 64)}...` : printable;
}

export function neutralAnswer(type: string): unknown {
  switch (type) {
    case 'study.access_requested':
    case 'ephemeral.access_requested':
      return { authorized: false, urls: [], error: NOT_SUPPORTED };
    case 'secondary_capture.access_requested':
      return { authorized: false, uploadUrls: [], error: NOT_SUPPORTED };
    case 'modality_worklist.requested':
      // authorized:false would surface as a worklist failure at the modality; this is "nothing scheduled".
      return { authorized: true, items: [], error: 'worklist not provided by avara-fhir-sync' };
    case 'patient_study.enrichment_requested':
    case 'clinical_context.enrichment_requested':
      return {}; // soft events: {} is a valid "nothing to add"
    default:
      return { success: true };
  }
}
