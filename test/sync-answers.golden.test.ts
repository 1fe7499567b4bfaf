import type { DocumentReference, Observation } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { derivedStudyUid, dicomPersonName } from '../src/answers/mapping/dicom-values.ts';
import { mapClinicalContextAnswer } from '../src/answers/mapping/map-clinical-context-answer.ts';
import { mapEnrichmentAnswer } from '../src/answers/mapping/map-enrichment-answer.ts';
import { mapWorklistItems, type ScheduledOrder } from '../src/answers/mapping/map-worklist-items.ts';
import { orderInput, orderOptions, priorReport } from './fixtures/order-fixtures.ts';
import { expectGolden } from './support/expect-golden.ts';

const options = orderOptions({ studyTimeZone: 'Europe/Berlin', priorReportsMax: 2 });

function measure(id: string, code: string, value: number, unit: string, at: string): Observation {
  return { resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, effectiveDateTime: at, valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit } };
}

function note(id: string, date: string, text: string, extra: Partial<DocumentReference> = {}): DocumentReference {
  return {
    resourceType: 'DocumentReference', id, status: 'current', date,
    type: { coding: [{ system: 'http://loinc.org', code: '11506-3', display: 'Progress note' }] },
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from(text).toString('base64'), title: `Progress note` } }],
    ...extra,
  };
}

function scheduled(n: number, at: string, edit: (o: ScheduledOrder) => void = () => {}): ScheduledOrder {
  const input = orderInput(n);
  const order: ScheduledOrder = { patient: input.patient, serviceRequest: { ...input.serviceRequest, occurrenceDateTime: at }, imagingStudy: input.imagingStudy };
  edit(order);
  return order;
}

describe('synchronous webhook answers golden files', () => {
  it('answers an enrichment for an order with every field, height in inches and weight in pounds', () => {
    const input = orderInput(1);
    const answer = mapEnrichmentAnswer({
      ...input,
      measures: { height: measure('h', '8302-2', 70, '[in_i]', '2026-01-01'), weight: measure('w', '29463-7', 165, '[lb_av]', '2026-01-01') },
    }, options);
    expectGolden('sync-enrichment-full.json', answer);
  });

  it('answers an enrichment with patient fields only when just the patient is known', () => {
    expectGolden('sync-enrichment-patient-only.json', mapEnrichmentAnswer({ patient: orderInput(2).patient }, options));
  });

  it('answers an enrichment of nothing found with {}', () => {
    expect(mapEnrichmentAnswer({}, options)).toEqual({});
  });

  it('answers clinical context with indication, technique, notes, capped priors and the newest clinical notes', () => {
    const input = orderInput(1);
    input.imagingStudy.note = [{ text: 'Low-dose protocol, 1 mm slices.' }];
    const answer = mapClinicalContextAnswer({
      ...input,
      priors: [
        { report: priorReport('dr-old', '2019-03-01T10:00:00Z', 'IMPRESSION: Normal chest.') },
        { report: priorReport('dr-new', '2025-06-01T08:00:00Z', 'IMPRESSION: Small nodule.') },
        { report: priorReport('dr-mid', '2022-06-01T08:00:00Z', 'IMPRESSION: Clear.') },
        { report: priorReport('dr-own', '2026-11-21T00:00:00Z', 'own', { basedOn: [{ reference: 'ServiceRequest/sr-1' }] }) },
      ],
      notes: [
        note('doc-1', '2026-11-01T10:00:00Z', 'Seen in clinic: cough for 6 weeks.'),
        note('doc-2', '2026-11-10T10:00:00Z', 'A long note, cut and chunked. '.repeat(3)),
        note('doc-old', '2020-01-01T10:00:00Z', 'Old note.', { status: 'superseded' }),
        note('doc-report', '2026-11-15T10:00:00Z', 'a radiology report', { type: { coding: [{ system: 'http://loinc.org', code: '18748-4' }] } }),
        { ...note('doc-pdf', '2026-11-12T10:00:00Z', ''), content: [{ attachment: { contentType: 'application/pdf', data: 'JVBERg==' } }] },
      ],
    }, options, { maxDocuments: 5, maxCharsPerDocument: 50, chunkChars: 20 });
    expectGolden('sync-clinical-context.json', answer);
    expect(answer.documents?.[0]?.content.map((c) => c.length)).toEqual([20, 20, 10]);
  });

  it('lists scheduled orders in the window as DICOM worklist items, earliest first', () => {
    const orders = [
      scheduled(1, '2026-11-20T15:30:05Z', (o) => { o.measures = { height: measure('h', '8302-2', 172, 'cm', '2026'), weight: measure('w', '29463-7', 81.25, 'kg', '2026') }; }),
      // No ImagingStudy yet: a derived 2.25 UID; a name from its parts; a MR order by its DCM code.
      scheduled(2, '2026-11-20T07:00:00Z', (o) => {
        o.imagingStudy = undefined;
        o.patient!.name = [{ family: "O'Neil", given: ['Mary', 'Ann'], prefix: ['Dr.'] }];
        o.serviceRequest.code = { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'MR' }], text: 'MR Knee' };
        o.serviceRequest.id = 'a-long-service-request-id-0001';
      }),
      scheduled(3, '2026-11-22T09:00:00Z'), // outside the window
      scheduled(4, '2026-11-19T23:30:00Z'), // 2026-11-20 00:30 in Berlin: inside
      scheduled(5, '2026-11-20T10:00:00Z', (o) => { o.patient!.identifier = []; }), // no MRN: left out
    ];
    expectGolden('sync-worklist.json', mapWorklistItems(orders, { dateStart: '2026-11-20', dateEnd: '2026-11-21' }, options));
    expect(mapWorklistItems(orders, { dateStart: '2026-11-20', dateEnd: '2026-11-21', modality: 'mr' }, options).map((i) => i.Modality)).toEqual(['MR']);
  });

  it('derives the same 2.25 Study Instance UID for the same order every time, and a different one for another', () => {
    const uid = derivedStudyUid('sr-1');
    expect(uid).toBe(derivedStudyUid('sr-1'));
    expect(uid).not.toBe(derivedStudyUid('sr-2'));
    expect(uid).toMatch(/^2\.25\.[1-9]\d{0,38}$/);
    expect(uid.length).toBeLessThanOrEqual(64);
  });

  it('writes DICOM person names as FAMILY^GIVEN^MIDDLE^PREFIX without separators inside components', () => {
    expect(dicomPersonName({ family: 'Smith', given: ['John'] })).toBe('Smith^John');
    expect(dicomPersonName({ family: 'Doe^x', given: ['A', 'B'], prefix: ['Dr.'] })).toBe('Doe x^A^B^Dr.');
    expect(dicomPersonName({ text: 'Single Name' })).toBe('Single Name');
  });
});
