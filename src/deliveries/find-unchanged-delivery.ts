import type { DiagnosticReport } from '@medplum/fhirtypes';
import type { FhirClient } from '../fhir/fhir-client.ts';

/** What a delivery of the study recorded when it reached the EHR. */
export interface DeliveredContent {
  contentHash: string | null;
  fhirRefs: Record<string, string> | null;
}

/**
 * The references of a delivery of this study that wrote the same content (same hash) and whose
 * DiagnosticReport version is still the EHR's current one. Writing the bundle again would only
 * add versions with the same content to the chart (every PUT of a conditional update is a new
 * version), so a replay of unchanged content writes nothing. A newer version in the EHR (someone
 * else wrote, or a later delivery) means the chart may differ from what we recorded: write.
 */
export async function findUnchangedDelivery(
  fhir: FhirClient, studyIdSystem: string, studyId: string, contentHash: string, delivered: DeliveredContent[],
): Promise<Record<string, string> | undefined> {
  const candidates = delivered.filter((row) => row.contentHash === contentHash && row.fhirRefs?.DiagnosticReport);
  // The common case (a first delivery) asks the EHR nothing more.
  if (candidates.length === 0) return undefined;
  const found = await fhir.search<DiagnosticReport>('DiagnosticReport', { identifier: `${studyIdSystem}|${studyId}`, _count: '2', _elements: 'identifier' });
  if (found.length !== 1) return undefined;
  const current = `DiagnosticReport/${found[0]!.id}/_history/${found[0]!.meta?.versionId ?? '1'}`;
  return candidates.find((row) => row.fhirRefs!.DiagnosticReport === current)?.fhirRefs ?? undefined;
}
