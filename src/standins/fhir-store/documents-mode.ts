import type { OperationOutcome } from '@medplum/fhirtypes';

/**
 * Which EHR the store imitates. `transactions`: a full FHIR server (HAPI, Medplum, Azure).
 * `documents`: Epic / Oracle Health, whose write API takes a single DocumentReference create on a
 * patient the EHR already has, so the `fhir-documents` target can be tested against that shape.
 */
export type EhrMode = 'transactions' | 'documents';
export const EHR_MODES: readonly EhrMode[] = ['transactions', 'documents'];

/** Owned by the EHR itself: registration, credentialing, the PACS and its own reporting. */
export const READ_ONLY_TYPES: ReadonlySet<string> = new Set(['Patient', 'Practitioner', 'ImagingStudy', 'DiagnosticReport']);

export type Refusal = { status: number; outcome: OperationOutcome };

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Why a documents-mode EHR would turn this request down, or undefined when it would take it. */
export function documentsModeRefusal(method: string, relativeUrl: string, ifNoneExist: string | undefined): Refusal | undefined {
  if (!WRITES.has(method)) return undefined;
  const [path = '', query] = relativeUrl.split(/\?(.*)/s);
  const segments = path.split('/').filter(Boolean);
  // 405 is what FHIR servers answer for an interaction they do not implement at all.
  if (method === 'POST' && segments.length === 0) {
    return refuse(405, 'not-supported', 'transaction and batch Bundles are not supported: create each resource with POST [type]');
  }
  const type = segments[0] ?? '';
  // Searches and operations sent by POST are reads here, not writes.
  if (method === 'POST' && segments.length > 1) return undefined;
  const conditional = (method === 'POST' && ifNoneExist !== undefined) || (method !== 'POST' && segments.length === 1 && query !== undefined);
  if (conditional) return refuse(400, 'not-supported', 'conditional writes are not supported (If-None-Exist or a search URL): write by id, find by search first');
  if (READ_ONLY_TYPES.has(type)) return refuse(403, 'forbidden', `${type} is read-only through this API`);
  return undefined;
}

function refuse(status: number, code: 'not-supported' | 'forbidden', text: string): Refusal {
  return { status, outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: text, details: { text } }] } };
}
