const MASK = '\u00b7\u00b7\u00b7';

/**
 * "A.O. ···2913": initials and the identifier's last characters, so a person on the audit page
 * can tell deliveries apart and find the chart in the EHR, while the database, the page and the
 * API never hold a name or a whole MRN. Null when neither is known.
 */
export function patientLabel(patientName: string | undefined, identifier: string | undefined): string | null {
  const parts = [initials(patientName ?? ''), maskIdentifier(identifier ?? '')].filter(Boolean);
  return parts.length ? parts.join(' ') : null;
}

// Not the FHIR mapping's split (which must always find a family): a label only tells deliveries
// apart, so when the name's order is unclear it keeps the words' own order, up to three.
function initials(patientName: string): string {
  const text = patientName.trim().replace(/\s+/g, ' ');
  if (text === '') return '';
  const [family, given, ...more] = text.split(',').map((part) => part.trim());
  const givenFirst = given && family && more.length === 0 ? [given.split(' ')[0]!, family] : undefined;
  const words = givenFirst ?? text.replace(/,/g, ' ').split(' ').filter(Boolean).slice(0, 3);
  return words.map((w) => `${Array.from(w)[0]!.toUpperCase()}.`).join('');
}

// At most 4 characters and never more than half of the identifier: a short MRN stays mostly hidden.
function maskIdentifier(identifier: string): string {
  const chars = Array.from(identifier.trim());
  if (chars.length === 0) return '';
  const shown = Math.min(4, Math.floor(chars.length / 2));
  return MASK + chars.slice(chars.length - shown).join('');
}
