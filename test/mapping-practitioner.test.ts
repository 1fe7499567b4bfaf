import type { Practitioner } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { buildDeliveryBundle } from '../src/deliveries/mapping/build-delivery-bundle.ts';
import { identifierSystems } from '../src/deliveries/mapping/identifier-systems.ts';
import { mapPractitioner } from '../src/deliveries/mapping/map-practitioner.ts';
import { validateDeliveryBundle } from '../src/fhir/validate-resource.ts';
import { createPatient, fullStudy, HADDAD, mappingOptions, originalReport } from './fixtures/mapping-fixtures.ts';
import { usCoreErrors } from './support/validate-us-core.ts';

const systems = identifierSystems(mappingOptions());
const FAMILY_UNKNOWN = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] };
const withoutLastName = { userId: HADDAD.userId, email: HADDAD.email, firstName: 'Miriam', middleName: 'R.', suffix1: 'MD' };

describe('the Practitioner of the signing radiologist', () => {
  it('writes family, given and suffixes from the user record, and claims US Core Practitioner', () => {
    expect(mapPractitioner(HADDAD, systems)).toEqual({
      resourceType: 'Practitioner',
      meta: { profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-practitioner'] },
      identifier: [
        { system: 'https://api.avarasoftware.com/fhir/sid/user-id', value: HADDAD.userId },
        { system: 'http://hl7.org/fhir/sid/us-npi', value: '1234567893' },
      ],
      name: [{ family: 'Haddad', given: ['Miriam', 'R.'], suffix: ['MD', 'FACR'] }],
    });
  });

  it('without a last name writes the full name as text and a family that is absent for an unknown reason', () => {
    expect(mapPractitioner(withoutLastName, systems).name).toEqual([
      { text: 'Miriam R., MD', _family: FAMILY_UNKNOWN, given: ['Miriam', 'R.'], suffix: ['MD'] },
    ]);
  });

  it('without any name part still gives the name a family absent for an unknown reason', () => {
    expect(mapPractitioner({ userId: HADDAD.userId, email: HADDAD.email, lastName: '  ' }, systems).name).toEqual([{ _family: FAMILY_UNKNOWN }]);
  });

  it('without a last name passes FHIR R4 validation and US Core Practitioner', () => {
    const report = { ...originalReport(), signer: withoutLastName };
    const bundle = buildDeliveryBundle({ study: fullStudy(), reports: [report], patient: createPatient() }, mappingOptions());
    expect(() => validateDeliveryBundle(bundle)).not.toThrow();
    const practitioner = bundle.entry!.find((e) => e.resource!.resourceType === 'Practitioner')!.resource as Practitioner;
    expect(usCoreErrors(practitioner)).toEqual([]);
  });

  it('without a last name and without the absent-reason would fail US Core Practitioner', () => {
    const practitioner = mapPractitioner(withoutLastName, systems);
    delete (practitioner.name![0] as { _family?: unknown })._family;
    expect(usCoreErrors(practitioner).join('\n')).toContain('Practitioner.name[0].family [structure] Missing required property');
  });
});
