import type { Element, HumanName, Identifier, Practitioner } from '@medplum/fhirtypes';
import type { User } from '../../avara/schemas.ts';
import { US_CORE_PRACTITIONER } from './code-systems.ts';
import type { IdentifierSystems } from './identifier-systems.ts';

/** A HumanName whose `family` may be absent with a reason (FHIR JSON's `_family` primitive extension). */
export type PractitionerName = HumanName & { _family?: Element };

// US Core Practitioner requires name.family; without a last name we say why it is missing rather
// than put a given name or the full name where a family name is expected.
const FAMILY_UNKNOWN: Element = {
  extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }],
};

/** The signing radiologist (fhir-mapping.md "Practitioner"); written as a conditional create, never updated. */
export function mapPractitioner(signer: User, systems: IdentifierSystems): Practitioner {
  const identifier: Identifier[] = [{ system: systems.userId, value: signer.userId }];
  const npi = signer.npiNumber?.trim();
  if (npi) identifier.push({ system: systems.npi, value: npi });
  return { resourceType: 'Practitioner', meta: { profile: [US_CORE_PRACTITIONER] }, identifier, name: [practitionerName(signer)] };
}

function practitionerName(signer: User): PractitionerName {
  const family = clean(signer.lastName);
  const given = [clean(signer.firstName), clean(signer.middleName)].filter((v) => v !== undefined);
  const suffix = [clean(signer.suffix1), clean(signer.suffix2)].filter((v) => v !== undefined);
  const parts = { ...(given.length ? { given } : {}), ...(suffix.length ? { suffix } : {}) };
  if (family) return { family, ...parts };
  const text = [given.join(' '), ...suffix].filter((v) => v !== '').join(', ');
  return { ...(text ? { text } : {}), _family: FAMILY_UNKNOWN, ...parts };
}

function clean(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
