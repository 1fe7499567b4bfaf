import type { Bundle, Resource } from '@medplum/fhirtypes';

/**
 * Pairs each transaction entry with its response (same index, FHIR transaction rules) and names
 * it: `Patient`, `ImagingStudy`, `DiagnosticReport`, `Practitioner:<usr_...>`,
 * `DocumentReference:<rep_...>` -> `Type/id/_history/version`.
 */
export function collectFhirRefs(request: Bundle, response: Bundle): Record<string, string> {
  const refs: Record<string, string> = {};
  (request.entry ?? []).forEach((entry, index) => {
    const resource = entry.resource;
    const location = response.entry?.[index]?.response?.location;
    if (!resource || !location) return;
    refs[refName(resource)] = normalizeLocation(location);
  });
  return refs;
}

function refName(resource: Resource): string {
  const avaraId = 'identifier' in resource && Array.isArray(resource.identifier)
    ? resource.identifier.find((i) => /^(usr|rep)_/.test(i.value ?? ''))?.value
    : undefined;
  if (resource.resourceType === 'Practitioner' || resource.resourceType === 'DocumentReference') {
    return `${resource.resourceType}:${avaraId ?? '?'}`;
  }
  return resource.resourceType;
}

/** Servers answer absolute or relative locations; keep `Type/id/_history/v`. */
function normalizeLocation(location: string): string {
  const match = /([A-Za-z]+\/[^/]+(?:\/_history\/[^/]+)?)\/?$/.exec(location);
  return match?.[1] ?? location;
}
