import { createHash } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';

/**
 * SHA-256 (hex) of the bundle's content, blind to the per-bundle `urn:uuid` fullUrls: each one is
 * replaced by its entry's position before hashing, and object keys are sorted. So the same Avara
 * state always hashes the same, and any change of content (a text, a demographic, a new addendum)
 * changes the hash.
 *
 * An attachment's `data` is stood in for by its `hash` (SHA-1 of the same bytes, set by the
 * mapping) and `size`: the PDF is most of a bundle, and hashing its base64 again cost more CPU
 * than the rest of the mapping. Any change of the bytes changes `hash`, so it changes this hash.
 */
export function deliveryContentHash(bundle: Bundle): string {
  const positions = new Map<string, string>();
  bundle.entry?.forEach((entry, index) => {
    if (entry.fullUrl?.startsWith('urn:uuid:')) positions.set(entry.fullUrl, `urn:entry:${index}`);
  });
  // Pieces collected flat and joined once: nested joins copied each base64 PDF (hundreds of KB)
  // once per nesting level, and hashing each piece on its own costs a native call per comma.
  const pieces: string[] = [];
  writeCanonicalJson(bundle, (value) => positions.get(value) ?? value, (piece) => pieces.push(piece));
  return createHash('sha256').update(pieces.join(''), 'utf8').digest('hex');
}

function writeCanonicalJson(value: unknown, mapString: (value: string) => string, write: (piece: string) => void): void {
  if (typeof value === 'string') return void write(JSON.stringify(mapString(value)));
  if (Array.isArray(value)) {
    write('[');
    value.forEach((item, index) => {
      if (index > 0) write(',');
      writeCanonicalJson(item, mapString, write);
    });
    return void write(']');
  }
  if (value !== null && typeof value === 'object') {
    const attachmentWithHash = 'data' in value && typeof (value as { hash?: unknown }).hash === 'string';
    const fields = Object.entries(value)
      .filter(([k, v]) => v !== undefined && !(attachmentWithHash && k === 'data'))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    write('{');
    fields.forEach(([key, item], index) => {
      write(`${index > 0 ? ',' : ''}${JSON.stringify(key)}:`);
      writeCanonicalJson(item, mapString, write);
    });
    return void write('}');
  }
  // undefined (a hole in an array) stringifies to nothing, as it did when joined.
  write(JSON.stringify(value) ?? '');
}
