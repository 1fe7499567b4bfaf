import type { User } from '../../../../avara/schemas.ts';

/** "Miriam R. Haddad, MD, FACR": how the author reads when the EHR has no Practitioner for the NPI. */
export function signerDisplay(signer: User): string {
  const name = [signer.firstName, signer.middleName, signer.lastName].map((part) => part?.trim()).filter(Boolean).join(' ');
  const suffixes = [signer.suffix1, signer.suffix2].map((part) => part?.trim()).filter(Boolean);
  // A display must say something; the email is the only other name a signer always has.
  return [name || signer.email || signer.userId, ...suffixes].join(', ');
}
