import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deliverySearchKeys } from '../src/deliveries/delivery-search-keys.ts';
import { enqueueDelivery } from '../src/store/deliveries.ts';
import { decodeCursor } from '../src/store/store.ts';
import { listDeliveryGroups, type DeliverySearch } from '../src/store/list-delivery-groups.ts';
import { hashMrn, mrnHashKey } from '../src/store/mrn-hash.ts';
import { openSqlite, type SqliteConnection } from '../src/store/open-store.ts';
import { deliveries } from '../src/store/schema.ts';
import type { Report, Study } from '../src/avara/schemas.ts';

const OPTIONS = { identifierSystemBase: 'urn:test', mrnSystem: 'urn:test:mrn', accessionSystem: 'urn:test:acc', accessionMetadataKey: 'accessionNumber' };

describe('listDeliveryGroups', () => {
  let dir: string;
  let store: SqliteConnection;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'groups-'));
    store = openSqlite({ sqlitePath: join(dir, 'db.sqlite') });
    // Study s1: original r1 and addendum r3 (to two targets); s2: r2; s3: r4 (newest).
    let at = 1_000;
    for (const [reportId, studyId] of [['r1', 's1'], ['r2', 's2'], ['r3', 's1'], ['r4', 's3']] as const) {
      enqueueDelivery(store.db, { reportId, studyId, source: 'webhook', targets: ['fhir', 'hl7v2'] }, at++);
    }
    const set = (reportId: string, values: Partial<typeof deliveries.$inferInsert>) => store.db.update(deliveries).set(values).where(eq(deliveries.reportId, reportId)).run();
    const key = mrnHashKey(store.db);
    // The addendum was recorded before its original (a webhook arriving late): signing order wins.
    set('r3', { signedAt: 5_000, isAddendum: true, mrnHash: hashMrn(key, 'H-1'), accession: 'ACC-1' });
    set('r1', { signedAt: 4_000, isAddendum: false, mrnHash: hashMrn(key, 'H-1'), accession: 'ACC-1' });
    set('r2', { signedAt: 4_500, isAddendum: false, mrnHash: hashMrn(key, 'H-2') });
    store.db.update(deliveries).set({ state: 'dead' }).where(eq(deliveries.id, 'hl7v2:r3')).run();
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ids = (page: ReturnType<typeof listDeliveryGroups>) => page.groups.map((g) => [g.studyId, g.deliveries.map((d) => d.id)]);

  it('groups by study, newest study first, each in signing order, and pages by study', () => {
    const first = listDeliveryGroups(store.db, { limit: 2 });
    expect(ids(first)).toEqual([['s3', ['fhir:r4', 'hl7v2:r4']], ['s1', ['fhir:r1', 'hl7v2:r1', 'fhir:r3', 'hl7v2:r3']]]);
    const second = listDeliveryGroups(store.db, { limit: 2, cursor: decodeCursor(first.nextCursor!) });
    expect(ids(second)).toEqual([['s2', ['fhir:r2', 'hl7v2:r2']]]);
    expect(second.nextCursor).toBeNull();
  });

  it('finds whole studies by report id, study id, accession and MRN hash, and nothing for an unknown key', () => {
    const find = (search: DeliverySearch) => ids(listDeliveryGroups(store.db, { limit: 10, search })).map(([studyId]) => studyId);
    expect(find({ by: 'report', value: 'r3' })).toEqual(['s1']);
    expect(find({ by: 'study', value: 's2' })).toEqual(['s2']);
    expect(find({ by: 'accession', value: 'ACC-1' })).toEqual(['s1']);
    expect(find({ by: 'mrn', mrnHash: hashMrn(mrnHashKey(store.db), ' H-2 ') })).toEqual(['s2']);
    expect(find({ by: 'mrn', mrnHash: hashMrn(mrnHashKey(store.db), 'H-9') })).toEqual([]);
    expect(find({ by: 'report', value: 's1' })).toEqual([]);
  });

  it('applies the filters to the rows: a state filter keeps the study with only its matching rows', () => {
    const page = listDeliveryGroups(store.db, { limit: 10, states: ['dead'] });
    expect(ids(page)).toEqual([['s1', ['hl7v2:r3']]]);
    expect(ids(listDeliveryGroups(store.db, { limit: 10, target: 'fhir', search: { by: 'report', value: 'r1' } }))).toEqual([['s1', ['fhir:r1', 'fhir:r3']]]);
  });

  it('keeps one MRN key per database: another database hashes the same MRN differently', () => {
    const other = openSqlite({ sqlitePath: join(dir, 'other.sqlite') });
    try {
      expect(hashMrn(mrnHashKey(other.db), 'H-1')).not.toBe(hashMrn(mrnHashKey(store.db), 'H-1'));
      expect(mrnHashKey(store.db).equals(mrnHashKey(store.db))).toBe(true);
    } finally {
      other.close();
    }
  });
});

describe('deliverySearchKeys', () => {
  const study = {
    studyId: 'stu_1', reportMetadata: { patientName: 'Ada Okafor', mrn: ' H-12342913 ' }, metadata: { accessionNumber: ' ACC-77 ' },
  } as unknown as Study;
  const report = (reportId: string, signedAt: string | null, isAddendum: boolean) =>
    ({ reportId, studyId: 'stu_1', status: signedAt ? 'completed' : 'in_progress', isAddendum, signedAt, createdAt: signedAt, snapshotMetadata: {} }) as unknown as Report;
  const reports = [report('rep_b', '2026-01-02T10:00:00Z', true), report('rep_a', '2026-01-01T10:00:00Z', false), report('rep_c', null, true)];
  const key = Buffer.alloc(32, 7);

  it('records the masked label, the MRN only as its keyed hash, the accession and where the report stands', () => {
    const keys = deliverySearchKeys(study, reports, 'rep_b', OPTIONS, key);
    expect(keys).toEqual({
      patientLabel: 'A.O. \u00b7\u00b7\u00b72913',
      mrnHash: hashMrn(key, 'H-12342913'),
      accession: 'ACC-77',
      signedAt: Date.parse('2026-01-02T10:00:00Z'),
      isAddendum: true,
    });
    expect(JSON.stringify(keys)).not.toContain('12342913');
    expect(deliverySearchKeys(study, reports, 'rep_a', OPTIONS, key).isAddendum).toBe(false);
  });

  it('leaves what it does not know empty: an unsigned report, no accession, no patient key', () => {
    const bare = { studyId: 'stu_2', reportMetadata: {} } as unknown as Study;
    expect(deliverySearchKeys(bare, reports, 'rep_c', OPTIONS, key)).toEqual({ patientLabel: null, mrnHash: null, accession: null, signedAt: null, isAddendum: true });
  });
});
