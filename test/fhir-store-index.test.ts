import { parseSearchRequest } from '@medplum/core';
import type { DiagnosticReport, DocumentReference, Group, Identifier, Patient, Reference } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { IndexedMemoryRepository } from '../src/standins/fhir-store/indexed-memory-repository.ts';
import { CRITICAL_TAG } from './support/fhir-store-fixtures.ts';

const SYS = 'urn:sys';

// Shapes the index must agree with the scan on: several identifiers per resource, case
// differences, identifiers without a system, an identifier type text, tags, subjects that are
// Patients or Groups or absent.
function identifiersFor(i: number): Identifier[] {
  const shapes: Identifier[][] = [
    [{ system: SYS, value: `v${i}` }],
    [{ system: SYS, value: `V${i}` }, { system: 'urn:other', value: 'shared' }],
    [{ value: `v${i}` }],
    [{ system: SYS.toUpperCase(), value: `v${i}`, type: { text: 'Accession' } }],
    [],
  ];
  return shapes[i % shapes.length] ?? [];
}

function subjectFor(i: number, patients: Patient[]): Reference<Patient | Group> | undefined {
  if (i % 7 === 0) return undefined;
  if (i % 5 === 0) return { reference: 'Group/g1' };
  return { reference: `Patient/${patients[i % patients.length]?.id}` };
}

async function seedMixed(repository: IndexedMemoryRepository): Promise<Patient[]> {
  const patients: Patient[] = [];
  for (let i = 0; i < 6; i++) {
    patients.push(await repository.createResource<Patient>({ resourceType: 'Patient', identifier: identifiersFor(i) }));
  }
  for (let i = 0; i < 60; i++) {
    const subject = subjectFor(i, patients);
    const meta = i % 3 === 0 ? { tag: [CRITICAL_TAG] } : undefined;
    const identifier = identifiersFor(i);
    await repository.createResource<DiagnosticReport>({ resourceType: 'DiagnosticReport', status: i % 2 ? 'final' : 'amended', code: { text: 'CT' }, identifier, subject, meta });
    const content = [{ attachment: { contentType: 'text/plain', data: 'eA==' } }];
    await repository.createResource<DocumentReference>({ resourceType: 'DocumentReference', status: 'current', identifier, subject, content, meta });
  }
  return patients;
}

async function mutate(repository: IndexedMemoryRepository): Promise<void> {
  const reports = await repository.searchUnindexed<DiagnosticReport>(parseSearchRequest('DiagnosticReport'));
  for (const [n, entry] of (reports.entry ?? []).entries()) {
    const report = entry.resource as DiagnosticReport & { id: string };
    if (n % 4 === 0) await repository.updateResource({ ...report, identifier: [{ system: SYS, value: `moved${n}` }], meta: { tag: [] } });
    if (n % 6 === 1) await repository.deleteResource('DiagnosticReport', report.id);
    if (n % 9 === 2) await repository.updateResource({ ...report, subject: { reference: 'Patient/none' }, meta: { tag: [CRITICAL_TAG] } });
  }
  // Update-as-create of a deleted id: the scan now lists it last, and so must the index.
  const revived = reports.entry?.[1]?.resource as DiagnosticReport & { id: string };
  await repository.updateResource({ ...revived, identifier: [{ value: 'shared' }] });
  // A failed transaction must leave the index as it found it.
  await repository
    .withTransaction(async () => {
      const [first] = reports.entry ?? [];
      await repository.updateResource({ ...(first?.resource as DiagnosticReport), identifier: [{ system: SYS, value: 'ghost' }] });
      await repository.createResource({ resourceType: 'DiagnosticReport', status: 'final', code: { text: 'x' }, identifier: [{ value: 'ghost' }] });
      throw new Error('abort');
    })
    .catch(() => undefined);
}

const indexedQueries = [
  `DiagnosticReport?identifier=${SYS}|v1`,
  `DiagnosticReport?identifier=${SYS}|V6`,
  'DiagnosticReport?identifier=v2',
  'DiagnosticReport?identifier=|v2',
  'DiagnosticReport?identifier=shared',
  'DiagnosticReport?identifier=accession',
  'DiagnosticReport?identifier=v1,v3,moved0',
  `DiagnosticReport?identifier=${SYS}|moved8`,
  'DiagnosticReport?identifier=ghost',
  `DiagnosticReport?_tag=${CRITICAL_TAG.system}|AA`,
  'DiagnosticReport?_tag=aa',
  'DiagnosticReport?subject=Group/g1',
  'DiagnosticReport?patient=Group/g1',
  'DiagnosticReport?subject=Patient/none',
  'DocumentReference?identifier=shared&_count=3&_offset=2',
  'DocumentReference?_tag=AA&status=current',
  `Patient?identifier=${SYS}|v0`,
  'Patient?identifier=shared&_count=1',
];
const scanQueries = [`DiagnosticReport?identifier=${SYS}|`, 'DiagnosticReport?identifier:not=v1', 'DiagnosticReport?status=final'];

describe('embedded FHIR store: search index', () => {
  const repository = new IndexedMemoryRepository();
  let patients: Patient[] = [];
  beforeAll(async () => {
    patients = await seedMixed(repository);
    await mutate(repository);
  });

  it('answers identifier, _tag, subject and patient searches exactly as the unindexed scan does', async () => {
    const patientQueries = patients.flatMap((p) => [`DiagnosticReport?patient=Patient/${p.id}`, `DocumentReference?subject=Patient/${p.id}&_tag=AA`]);
    for (const query of [...indexedQueries, ...patientQueries]) {
      const before = repository.searchStats.indexed;
      const indexed = await repository.search(parseSearchRequest(query));
      expect(repository.searchStats.indexed, query).toBe(before + 1);
      const scanned = await repository.searchUnindexed(parseSearchRequest(query));
      expect(indexed, query).toEqual(scanned);
    }
  });

  it('finds something for most queries, so the comparison is not between empty results', async () => {
    let nonEmpty = 0;
    for (const query of indexedQueries) if ((await repository.search(parseSearchRequest(query))).total) nonEmpty++;
    expect(nonEmpty).toBeGreaterThanOrEqual(indexedQueries.length - 3);
  });

  it('falls back to the scan for search shapes the index cannot answer', async () => {
    for (const query of scanQueries) {
      const before = repository.searchStats.scanned;
      const result = await repository.search(parseSearchRequest(query));
      expect(repository.searchStats.scanned, query).toBe(before + 1);
      expect(result, query).toEqual(await repository.searchUnindexed(parseSearchRequest(query)));
    }
  });
});
