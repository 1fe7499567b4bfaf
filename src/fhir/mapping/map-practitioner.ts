import type { HumanName, Identifier, Practitioner } from '@medplum/fhirtypes';
import type { User } from '../../avara/schemas.ts';
import type { IdentifierSystems } from './identifier-systems.ts';

/** The signing radiologist (fhir-mapping.md "Practitioner"); written as a conditional create, never updated. */
export function mapPractitioner(signer: User, systems: IdentifierSystems): Practitioner {
  const identifier: Identifier[] = [{ system: systems.userId, value: signer.userId }];
  const npi = signer.npiNumber?.trim();
  if (npi) identifier.push({ system: systems.npi, value: npi });
  const name = practitionerName(signer);
  return { resourceType: 'Practitioner', identifier, ...(name ? { name: [name] } : {}) };
}

function practitionerName(signer: User): HumanName | undefined {
  const family = clean(signer.lastName);
  const given = [clean(signer.firstName), clean(signer.middleName)].filter((v) => v !== undefined);
  const suffix = [clean(signer.suffix1), clean(signer.suffix2)].filter((v) => v !== undefined);
  const name: HumanName = {
    ...(family ? { family } : {}),
    ...(given.length ? { given } : {}),
    ...(suffix.length ? { suffix } : {}),
  };
  return Object.keys(name).length ? name : undefined;
}

function clean(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
