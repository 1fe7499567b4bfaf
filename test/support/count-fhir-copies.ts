import type { Sandbox } from '../../src/standins/avara-sandbox/start-sandbox.ts';
import type { SignedRef } from '../../src/standins/avara-sandbox/sandbox-types.ts';
import { identifierSearchToken } from '../../src/deliveries/mapping/identifier-query.ts';

const SID = 'https://api.avarasoftware.com/fhir/sid';
const MRN_SYSTEM = 'urn:avara-fhir-sync:mrn';
const SEARCHES_AT_ONCE = 8;

/** One business identifier and how many resources FHIR search finds for it (exactly 1 is right). */
export interface IdentifierCount {
  resourceType: string;
  identifier: string;
  found: number;
}

export interface FhirCopies {
  counts: IdentifierCount[];
  /** Identifiers found more than once, summed as extra copies. */
  duplicates: number;
  /** Identifiers FHIR search does not find at all. */
  missing: number;
  /** Every resource of the four types, by type, whatever its identifiers. */
  totals: Record<string, number>;
}

/**
 * Counts, by FHIR search on business identifiers, the DiagnosticReport of every study, the
 * DocumentReference of every report, the ImagingStudy of every DICOM study UID and the Patient of
 * every MRN the signed reports touch.
 */
export async function countFhirCopies(fhirBaseUrl: string, sandbox: Sandbox, signed: SignedRef[]): Promise<FhirCopies> {
  const searches = new Map<string, [string, string]>();
  const add = (resourceType: string, system: string, value: string) =>
    searches.set(`${resourceType}?${system}|${value}`, [resourceType, identifierSearchToken(system, value)]);
  for (const ref of signed) {
    const study = sandbox.getStudyState(ref.studyId);
    add('DiagnosticReport', `${SID}/study-id`, ref.studyId);
    add('DocumentReference', `${SID}/report-id`, ref.reportId);
    add('ImagingStudy', 'urn:dicom:uid', `urn:oid:${study.studyInstanceUid}`);
    const mrn = study.reportMetadata.mrn;
    if (mrn) add('Patient', MRN_SYSTEM, mrn);
  }
  const pending = [...searches.values()];
  const counts: IdentifierCount[] = [];
  await Promise.all(Array.from({ length: SEARCHES_AT_ONCE }, async () => {
    for (let next = pending.shift(); next; next = pending.shift()) {
      const [resourceType, identifier] = next;
      counts.push({ resourceType, identifier, found: await searchCount(fhirBaseUrl, resourceType, { identifier }) });
    }
  }));
  const totals: Record<string, number> = {};
  for (const resourceType of ['DiagnosticReport', 'DocumentReference', 'ImagingStudy', 'Patient']) {
    totals[resourceType] = await searchCount(fhirBaseUrl, resourceType, {});
  }
  return {
    counts,
    duplicates: counts.reduce((sum, c) => sum + Math.max(0, c.found - 1), 0),
    missing: counts.filter((c) => c.found === 0).length,
    totals,
  };
}

/** Report ids of every DocumentReference the FHIR store holds (one per delivered report). */
export async function reportIdsInFhir(fhirBaseUrl: string): Promise<Set<string>> {
  const response = await fetch(`${fhirBaseUrl}/DocumentReference?_count=1000`);
  if (!response.ok) throw new Error(`FHIR search DocumentReference answered ${response.status}`);
  const bundle = (await response.json()) as { entry?: { resource: { identifier?: { system?: string; value?: string }[] } }[] };
  const ids = (bundle.entry ?? []).flatMap((e) => e.resource.identifier ?? []).filter((i) => i.system === `${SID}/report-id`);
  return new Set(ids.map((i) => i.value!));
}

async function searchCount(fhirBaseUrl: string, resourceType: string, query: Record<string, string>): Promise<number> {
  const response = await fetch(`${fhirBaseUrl}/${resourceType}?${new URLSearchParams({ _count: '1000', ...query })}`);
  if (!response.ok) throw new Error(`FHIR search ${resourceType} answered ${response.status}`);
  const bundle = (await response.json()) as { entry?: unknown[] };
  return bundle.entry?.length ?? 0;
}
