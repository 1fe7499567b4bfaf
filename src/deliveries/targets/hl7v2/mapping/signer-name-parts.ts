import type { User } from '../../../../avara/schemas.ts';
import type { Hl7Value } from './build-segment.ts';

/**
 * A signer as XCN components 1-4 (ID number, family, given, further given names): the NPI, empty
 * when the user record has none, and the name from the user record. OBR-32 puts the same four
 * parts in subcomponents (its CNN sits inside component 1).
 */
export function signerNameParts(signer: User): Hl7Value[] {
  return [signer.npiNumber?.trim(), signer.lastName?.trim(), signer.firstName?.trim(), signer.middleName?.trim()];
}
