import { parseSearchRequest } from '@medplum/core';
import type { DiagnosticReport } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexedMemoryRepository } from '../src/standins/fhir-store/indexed-memory-repository.ts';
import type { EmbeddedFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { startFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { SID, deliveryBundle, postJson } from './support/fhir-store-fixtures.ts';

const SMALL = 100;
const LARGE = 10_000;
const SAMPLES = 301;

// Directly through the repository: HTTP would make seeding, not searching, the cost of this test.
async function seedReports(repository: IndexedMemoryRepository, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    await repository.createResource<DiagnosticReport>({
      resourceType: 'DiagnosticReport',
      status: 'final',
      code: { text: 'CT' },
      identifier: [{ system: `${SID}/study-id`, value: `stu_${i}` }],
      subject: { reference: `Patient/p${i % 500}` },
    });
  }
}

async function medianMs(samples: number, run: (i: number) => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await run(i);
    times.push(performance.now() - started);
  }
  return median(times);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

describe('embedded FHIR store: latency does not grow with the number of stored resources', () => {
  let store: EmbeddedFhirServer;
  beforeAll(async () => { store = await startFhirServer({ port: 0 }); });
  afterAll(() => store.stop());

  it(`answers an identifier search at ${LARGE} reports within 2x of the time at ${SMALL}`, { timeout: 60_000 }, async () => {
    const repository = store.repository;
    const search = (size: number) => async (i: number) => {
      const hit = `${SID}/study-id|stu_${(i * 7919) % size}`;
      const bundle = await repository.search(parseSearchRequest(`DiagnosticReport?identifier=${hit}`));
      if (bundle.total !== 1) throw new Error(`expected one match for ${hit}`);
    };
    await seedReports(repository, 0, SMALL);
    await medianMs(SAMPLES, search(SMALL)); // warm-up: JIT, FHIRPath parse caches
    const small = await medianMs(SAMPLES, search(SMALL));
    await seedReports(repository, SMALL, LARGE);
    const large = await medianMs(SAMPLES, search(LARGE));

    console.info(`identifier search median: ${small.toFixed(3)} ms at ${SMALL}, ${large.toFixed(3)} ms at ${LARGE}, ratio ${(large / small).toFixed(2)}`);
    expect(large / small).toBeLessThan(2);
  });

  it('applies a conditional delivery transaction over HTTP at 10,000 reports about as fast as near-empty', { timeout: 60_000 }, async () => {
    const fresh = await startFhirServer({ port: 0 });
    try {
      const deliver = async (server: EmbeddedFhirServer, i: number) => {
        const keys = { mrn: `M${i % 20}`, studyUid: `1.2.${i % 40}`, studyId: `stu_${i % 40}`, reportId: `rep_${i % 40}` };
        const res = await postJson(server.baseUrl, deliveryBundle(keys));
        if (res.status !== 200) throw new Error(`transaction answered ${res.status}`);
      };
      await medianMs(41, (i) => deliver(fresh, i)); // warm-up, and the first (creating) delivery of each key
      await medianMs(41, (i) => deliver(store, i));
      // Alternate the two stores so garbage collection and JIT affect both measurements alike.
      const times = { nearEmpty: [] as number[], full: [] as number[] };
      await medianMs(161, async (i) => {
        const target = i % 2 ? store : fresh;
        const started = performance.now();
        await deliver(target, i >> 1);
        (i % 2 ? times.full : times.nearEmpty).push(performance.now() - started);
      });
      const [nearEmpty, full] = [median(times.nearEmpty), median(times.full)];
      console.info(`delivery transaction median: ${nearEmpty.toFixed(2)} ms near-empty, ${full.toFixed(2)} ms at ${LARGE} reports`);
      expect(full / nearEmpty).toBeLessThan(2);
    } finally {
      await fresh.stop();
    }
  });
});
