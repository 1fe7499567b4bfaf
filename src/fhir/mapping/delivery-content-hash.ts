import { createHash } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';

/**
 * SHA-256 (hex) of the bundle's content, blind to the per-bundle `urn:uuid` fullUrls: each one is
 * replaced by its entry's position before hashing, and object keys are sorted. So the same Avara
 * state always hashes the same, and any change of content (a text, a demographic, a new addendum)
 * changes the hash.
 */
export function deliveryContentHash(bundle: Bundle): string {
  const positions = new Map<string, string>();
  bundle.entry?.forEach((entry, index) => {
    if (entry.fullUrl?.startsWith('urn:uuid:')) positions.set(entry.fullUrl, `urn:entry:${index}`);
  });
  const canonical = canonicalJson(bundle, (value) => positions.get(value) ?? value);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

function canonicalJson(value: unknown, mapString: (value: string) => string): string {
  if (typeof value === 'string') return JSON.stringify(mapString(value));
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, mapString)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, mapString)}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value);
}
