import type { HumanName } from '@medplum/fhirtypes';

/**
 * Avara keeps the patient's name as one free-text string; US Core Patient (us-core-6) needs a
 * `family` or `given` beside `text`, so the name is always split (fhir-mapping.md "Patient we
 * create"): "Family, Given Middle" -> family before the first comma, given the words after it;
 * without a comma the last word is the family and the words before it are given; one word is the
 * family only. `text` keeps the name as Avara wrote it (trimmed), so nothing of it is lost.
 * `undefined` when there is no word to use (blank, or only commas).
 */
export function splitPatientName(patientName: string): HumanName | undefined {
  const text = patientName.trim();
  if (text === '') return undefined;
  const comma = text.indexOf(',');
  if (comma >= 0) {
    // Further commas ("Smith, John, Jr.") only separate more words: the first one marks the family.
    return withParts(text, collapseSpaces(text.slice(0, comma)), words(text.slice(comma + 1)));
  }
  const plain = words(text);
  return withParts(text, plain.at(-1) ?? '', plain.slice(0, -1));
}

function withParts(text: string, family: string, given: string[]): HumanName | undefined {
  if (!family && given.length === 0) return undefined;
  return { text, ...(family ? { family } : {}), ...(given.length ? { given } : {}) };
}

function collapseSpaces(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

function words(value: string): string[] {
  return value.split(/[\s,]+/).filter((w) => w !== '');
}
