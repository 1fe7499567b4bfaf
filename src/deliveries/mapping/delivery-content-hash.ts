import { createHash } from 'node:crypto';
import type { Bundle, Resource } from '@medplum/fhirtypes';

/**
 * SHA-256 (hex) of the clinical content a delivery writes, so the same Avara state hashes the same
 * on every run and a replay can tell "unchanged" from "changed":
 *
 * - entries are named and sorted by their conditional key (`DocumentReference?identifier=...`),
 *   never by position or by the per-bundle `urn:uuid` fullUrls we generate;
 * - the patient is `patientKey` (its identifier system and value, as resolved), whether this
 *   delivery creates it (an entry and its `urn:uuid`) or found it (`Patient/123`): the first
 *   delivery creates, a replay finds, and the chart is the same. A created Patient's own content
 *   is left out: its conditional create never changes a chart the EHR already has, so it is not
 *   something a replay could write;
 * - `meta` keeps only `tag` and `security` (the critical flag): profiles, versions and times
 *   describe the resource, not the report;
 * - an attachment's `data` is stood in for by its `hash` (SHA-1 of the same bytes, set by the
 *   mapping) and `size`: the PDF is most of a bundle, and hashing its base64 again cost more CPU
 *   than the rest of the mapping. Any change of the bytes changes `hash`, so it changes this hash.
 *
 * Rows written by releases before this formula hold the older hash (positions and the Patient
 * entry included). Nothing compares hashes except a replay deciding whether to write, so after an
 * upgrade the first replay of such a row writes once, as every replay did before, and records this
 * formula's hash; no delivery is sent again because of the change.
 */
export function deliveryContentHash(bundle: Bundle, patientKey = 'patient'): string {
  const PATIENT = `urn:patient:${patientKey}`;
  const entries = bundle.entry ?? [];
  const names = new Map<string, string>();
  for (const entry of entries) {
    if (!entry.fullUrl?.startsWith('urn:uuid:')) continue;
    names.set(entry.fullUrl, entry.resource?.resourceType === 'Patient' ? PATIENT : `urn:entry:${conditionalKey(entry)}`);
  }
  const mapString = (value: string) => names.get(value) ?? (/^Patient\/[^/]+$/.test(value) ? PATIENT : value);
  const keyed = entries
    .filter((entry) => entry.resource?.resourceType !== 'Patient')
    .map((entry) => [conditionalKey(entry), entry.resource] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Pieces collected flat and joined once: nested joins copied each base64 PDF (hundreds of KB)
  // once per nesting level, and hashing each piece on its own costs a native call per comma.
  const pieces: string[] = [];
  for (const [key, resource] of keyed) {
    pieces.push(JSON.stringify(key), '=');
    writeCanonicalJson(withClinicalMeta(resource), mapString, (piece) => pieces.push(piece));
    pieces.push('\n');
  }
  return createHash('sha256').update(pieces.join(''), 'utf8').digest('hex');
}

/**
 * SHA-256 (hex) of one resource we write on its own (the fhir-documents target's
 * DocumentReference), under the same rules: canonical JSON, clinical `meta` only, attachments by
 * their hash.
 */
export function resourceContentHash(resource: Resource): string {
  const pieces: string[] = [];
  writeCanonicalJson(withClinicalMeta(resource), (value) => value, (piece) => pieces.push(piece));
  return createHash('sha256').update(pieces.join(''), 'utf8').digest('hex');
}

function conditionalKey(entry: NonNullable<Bundle['entry']>[number]): string {
  const request = entry.request;
  if (request?.ifNoneExist) return `${request.url}?${request.ifNoneExist}`;
  return request?.url ?? entry.resource?.resourceType ?? '';
}

function withClinicalMeta(resource: Resource | undefined): unknown {
  if (!resource?.meta) return resource;
  const { tag, security } = resource.meta;
  const meta = { ...(tag ? { tag } : {}), ...(security ? { security } : {}) };
  return { ...resource, meta: Object.keys(meta).length > 0 ? meta : undefined };
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
