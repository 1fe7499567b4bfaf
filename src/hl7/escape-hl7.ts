// HL7 v2.5.1 §2.7.4: the delimiters in a value are written as escape sequences, the escape
// character itself as \E\ (one pass, so an escape we write is never escaped again); §2.7.6: a line
// break is the formatting command \.br\, whatever the text's line ending was, so a CR inside a
// value can never end the segment. Assumes the standard delimiters `|^~\&` of our MSH-1/MSH-2.
const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\E\\',
  '|': '\\F\\',
  '^': '\\S\\',
  '&': '\\T\\',
  '~': '\\R\\',
  '\r\n': '\\.br\\',
  '\n': '\\.br\\',
  '\r': '\\.br\\',
};

// Other C0 controls (not TAB) would be unreadable in a field, and 0x0B / 0x1C are MLLP's frame
// markers: they go as §2.7.5 hex escapes instead of raw bytes.
const SPECIAL = /\r\n|[\\|^&~\r\n]|[\x00-\x08\x0B-\x0C\x0E-\x1F]/g;

/** A value as it must stand inside one component (or subcomponent) of an HL7 v2 field. */
export function escapeHl7(value: string): string {
  return value.replace(SPECIAL, (match) => ESCAPES[match] ?? hexEscape(match));
}

function hexEscape(control: string): string {
  return `\\X${control.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}\\`;
}
