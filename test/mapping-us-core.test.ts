import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle, DiagnosticReport, DocumentReference, Patient, Practitioner, Resource } from '@medplum/fhirtypes';
import { describe, expect, it, vi } from 'vitest';
import {
  US_CORE_DIAGNOSTIC_REPORT_NOTE, US_CORE_DOCUMENT_REFERENCE, US_CORE_PATIENT, US_CORE_PRACTITIONER,
} from '../src/deliveries/mapping/code-systems.ts';
import { mapPatient } from '../src/deliveries/mapping/map-patient.ts';
import { mapPractitioner } from '../src/deliveries/mapping/map-practitioner.ts';
import { identifierSystems } from '../src/deliveries/mapping/identifier-systems.ts';
import { fullStudy, HADDAD, mappingOptions } from './fixtures/mapping-fixtures.ts';
import { MAPPING_SCENARIOS } from './fixtures/mapping-scenarios.ts';
import { usCoreDefinitionsDir, usCoreErrors } from './support/validate-us-core.ts';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');

// Every golden file that is a FHIR Bundle, read as committed: what the mapping is pinned to send.
const GOLDEN_BUNDLES = readdirSync(GOLDEN_DIR)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({ name, json: JSON.parse(readFileSync(join(GOLDEN_DIR, name), 'utf8')) as { resourceType?: string } }))
  .filter(({ json }) => json.resourceType === 'Bundle')
  .map(({ name, json }) => ({ name, bundle: json as Bundle }));

const EXPECTED_CLAIMS: Partial<Record<Resource['resourceType'], string>> = {
  Patient: US_CORE_PATIENT,
  Practitioner: US_CORE_PRACTITIONER,
  DocumentReference: US_CORE_DOCUMENT_REFERENCE,
  DiagnosticReport: US_CORE_DIAGNOSTIC_REPORT_NOTE,
};

describe('the golden delivery bundles against the US Core 5.0.1 profiles they claim', () => {
  it('covers the golden file of every mapping scenario', () => {
    expect(GOLDEN_BUNDLES.map((g) => g.name).sort()).toEqual(MAPPING_SCENARIOS.map((s) => s.golden).sort());
  });

  for (const { name, bundle } of GOLDEN_BUNDLES) {
    it(`finds no error in any resource of ${name}`, () => {
      const errors = (bundle.entry ?? []).flatMap((entry, index) =>
        usCoreErrors(entry.resource!).map((line) => `entry ${index} ${entry.resource!.resourceType}: ${line}`),
      );
      expect(errors).toEqual([]);
    });

    it(`has every Patient, Practitioner, DocumentReference and DiagnosticReport of ${name} claim its US Core profile`, () => {
      for (const { resource } of bundle.entry ?? []) {
        const expected = EXPECTED_CLAIMS[resource!.resourceType];
        if (expected) expect(resource!.meta?.profile, resource!.resourceType).toEqual([expected]);
      }
    });
  }
});

describe('the Patient we create against US Core Patient', () => {
  const names = ['Cher', 'Adaeze Okafor', 'Mary Ann Smith', 'Anna Maria Louise Berg', 'Okafor, Adaeze Chioma', 'Smith, John, Jr.', ', John'];
  for (const patientName of names) {
    it(`conforms, us-core-6 included, for the name "${patientName}"`, () => {
      const metadata = { ...fullStudy().reportMetadata, patientName };
      expect(usCoreErrors(mapPatient(fullStudy({ reportMetadata: metadata }), metadata, mappingOptions()))).toEqual([]);
    });
  }
});

describe('the US Core check itself', () => {
  const patient = (name: Patient['name']): Patient => ({
    resourceType: 'Patient',
    meta: { profile: [US_CORE_PATIENT] },
    identifier: [{ system: 'urn:avara-fhir-sync:mrn', value: 'H-1' }],
    gender: 'unknown',
    name,
  });

  it('accepts a Patient with a family name', () => {
    expect(usCoreErrors(patient([{ text: 'Lee', family: 'Lee' }]))).toEqual([]);
  });

  it('rejects a Patient whose name has neither family nor given, by us-core-6', () => {
    expect(usCoreErrors(patient([{ text: 'Mary Ann Smith' }])).join('\n')).toContain('us-core-6');
  });

  it('rejects a Practitioner whose name has no family', () => {
    const practitioner: Practitioner = {
      resourceType: 'Practitioner',
      meta: { profile: [US_CORE_PRACTITIONER] },
      identifier: [{ system: 'https://api.avarasoftware.com/fhir/sid/user-id', value: HADDAD.userId }],
      name: [{ given: ['Miriam'] }],
    };
    expect(usCoreErrors(practitioner).join('\n')).toContain('Practitioner.name[0].family [structure] Missing required property');
  });

  it('rejects a final DiagnosticReport without an effective time, by us-core-10', () => {
    const report = GOLDEN_BUNDLES[0]!.bundle.entry!.at(-1)!.resource as DiagnosticReport;
    expect(usCoreErrors({ ...report, effectiveDateTime: undefined }).join('\n')).toContain('us-core-10');
  });

  it('rejects a DocumentReference without a category', () => {
    const document = GOLDEN_BUNDLES[0]!.bundle.entry!.find((e) => e.resource!.resourceType === 'DocumentReference')!.resource as DocumentReference;
    expect(usCoreErrors({ ...document, category: undefined }).join('\n')).toContain('DocumentReference.category');
  });

  it('accepts a family that carries only the data-absent-reason extension', () => {
    const practitioner = mapPractitioner({ userId: HADDAD.userId, email: HADDAD.email, firstName: 'Miriam' }, identifierSystems(mappingOptions()));
    expect(usCoreErrors(practitioner)).toEqual([]);
  });

  it('refuses to pass a resource that claims a profile it cannot check', () => {
    const claimed = { ...patient([{ family: 'Lee' }]), meta: { profile: ['http://example.org/StructureDefinition/unknown'] } };
    expect(() => usCoreErrors(claimed)).toThrow(/claims http:\/\/example.org/);
  });

  it('fails loudly, naming the setting, when the US Core definitions are not where USCORE_DEFINITIONS_DIR says', () => {
    vi.stubEnv('USCORE_DEFINITIONS_DIR', '/nonexistent/uscore-5.0.1');
    try {
      expect(() => usCoreDefinitionsDir()).toThrow(/not found in \/nonexistent\/uscore-5\.0\.1; set USCORE_DEFINITIONS_DIR/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
