import type { HumanName } from '@medplum/fhirtypes';

/**
 * Avara keeps the patient's name as one free-text string. `family`/`given` are filled only when
 * the split is unambiguous (fhir-mapping.md "Patient"): "Family, Given Middle" or exactly two words
 * "Given Family". Anything else (one word, three words without a comma, several commas) keeps
 * `text` only: a guessed family name would be matched and displayed as if it were true.
 */
export function splitPatientName(patientName: string): HumanName | undefined {
  const text = patientName.trim();
  if (text === '') return undefined;
  const parts = collapseSpaces(text).split(',');
  if (parts.length === 2) {
    const family = parts[0]!.trim();
    const given = words(parts[1]!);
    return family !== '' && given.length > 0 ? { text, family, given } : { text };
  }
  if (parts.length > 2) return { text };
  const plain = words(collapseSpaces(text));
  if (plain.length === 2) return { text, family: plain[1]!, given: [plain[0]!] };
  return { text };
}

function collapseSpaces(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

function words(value: string): string[] {
  return value.split(' ').filter((w) => w !== '');
}
