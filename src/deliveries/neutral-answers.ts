// What we answer for Avara event types this service does not (yet) act on, each the neutral
// body its spec allows (avara-api.md §7.3, §7.4). We are not an image archive, so access
// requests are refused explicitly rather than left to time out.
const NOT_SUPPORTED = 'not supported by avara-fhir-sync';

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
