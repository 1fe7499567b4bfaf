import type { Identifier } from '@medplum/fhirtypes';
import type { Study } from '../../avara/schemas.ts';
import { identifierType, V2_0203 } from './code-systems.ts';
import type { EhrOrderFacts } from './delivery-input.ts';

/**
 * The accession identifier we write (fhir-mapping.md "Identifier systems"): for a study created
 * from an EHR order, the order's own ACSN identifier as the EHR assigned it (its system and value,
 * so it still matches the order); else ACCESSION_SYSTEM with `metadata[ACCESSION_METADATA_KEY]`.
 * `undefined` when there is neither.
 */
export function accessionIdentifier(
  study: Study,
  ehrOrder: EhrOrderFacts | undefined,
  options: { accessionSystem: string; accessionMetadataKey: string },
): Identifier | undefined {
  const fromOrder = ehrOrder?.accession;
  if (fromOrder?.value?.trim()) return withAcsnType(structuredClone(fromOrder));
  const value = study.metadata?.[options.accessionMetadataKey]?.trim();
  return value ? { type: identifierType('ACSN'), system: options.accessionSystem, value } : undefined;
}

// The EHR's identifier is kept as it is; only an ACSN type coding is added when it lacks one, so
// readers that look for the accession by type still find it.
function withAcsnType(identifier: Identifier): Identifier {
  const codings = identifier.type?.coding ?? [];
  if (codings.some((c) => c.system === V2_0203 && c.code === 'ACSN')) return identifier;
  if (!identifier.type) return { ...identifier, type: identifierType('ACSN') };
  return { ...identifier, type: { ...identifier.type, coding: [...codings, ...identifierType('ACSN').coding!] } };
}
