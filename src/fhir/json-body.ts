import { randomUUID } from 'node:crypto';

// A delivery bundle is mostly two copies of one report PDF's base64 (~270,000 characters each).
// JSON.stringify would copy both into one ~560 KB string and fetch would encode that into UTF-8
// bytes, a second full copy, together ~2 ms a delivery. Long strings that need no JSON escaping
// are spliced in as bytes instead, into one buffer written once.
const SPLICE_MIN_CHARS = 16 * 1024;
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/** `JSON.stringify(value)` as UTF-8 bytes, the same bytes, with fewer copies of long strings. */
export function jsonBody(value: unknown): Buffer {
  const marker = `splice-${randomUUID()}-`;
  const spliced: string[] = [];
  const safe = new Set<string>();
  const json = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'string' || item.length < SPLICE_MIN_CHARS || !(safe.has(item) || isPlainAscii(item, safe))) return item;
    spliced.push(item);
    return `${marker}${spliced.length - 1}`;
  });
  if (spliced.length === 0) return Buffer.from(json, 'utf8');
  const pieces = json.split(marker);
  // The marker is random per call: found more often than it was put in, a value held it (never
  // in practice); then no splicing.
  if (pieces.length - 1 !== spliced.length) return Buffer.from(JSON.stringify(value), 'utf8');
  // Each piece after the first starts with its string's index, then the closing quote.
  const parts: { text: string; latin1: boolean }[] = [{ text: pieces[0]!, latin1: false }];
  for (const piece of pieces.slice(1)) {
    const digits = /^\d+/.exec(piece)![0];
    parts.push({ text: spliced[Number(digits)]!, latin1: true }, { text: piece.slice(digits.length), latin1: false });
  }
  const bytes = Buffer.allocUnsafe(parts.reduce((sum, p) => sum + (p.latin1 ? p.text.length : Buffer.byteLength(p.text, 'utf8')), 0));
  let offset = 0;
  for (const part of parts) offset += bytes.write(part.text, offset, part.latin1 ? 'latin1' : 'utf8');
  return bytes;
}

// ASCII without quote, backslash or control characters is its own JSON and its own UTF-8.
function isPlainAscii(value: string, safe: Set<string>): boolean {
  if (Buffer.byteLength(value, 'utf8') !== value.length || NEEDS_ESCAPE.test(value)) return false;
  safe.add(value);
  return true;
}
