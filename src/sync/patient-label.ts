import { splitPatientName } from '../fhir/mapping/split-patient-name.ts';

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

function initials(patientName: string): string {
  const name = splitPatientName(patientName);
  if (!name) return '';
  const words = name.family && name.given?.length ? [name.given[0]!, name.family] : name.text!.replace(/,/g, ' ').split(/\s+/).filter(Boolean).slice(0, 3);
  return words.map((w) => `${Array.from(w)[0]!.toUpperCase()}.`).join('');
}

// At most 4 characters and never more than half of the identifier: a short MRN stays mostly hidden.
function maskIdentifier(identifier: string): string {
  const chars = Array.from(identifier.trim());
  if (chars.length === 0) return '';
  const shown = Math.min(4, Math.floor(chars.length / 2));
  return MASK + chars.slice(chars.length - shown).join('');
}
