import { describe, expect, it } from 'vitest';
import { StudyCreateBodySchema } from '../src/avara/study-write-schemas.ts';
import { mapOrderToStudy } from '../src/orders/mapping/map-order-to-study.ts';
import type { OrderInput } from '../src/orders/mapping/order-input.ts';
import { orderInput, orderOptions, priorReport } from './fixtures/order-fixtures.ts';
import { expectGolden } from './support/expect-golden.ts';

function fullOrder(): OrderInput {
  const input = orderInput(1);
  input.priors = [
    { report: priorReport('dr-old', '2019-03-01T10:00:00Z', 'IMPRESSION: Normal chest.') },
    {
      report: priorReport('dr-new', '2025-06-01T08:00:00+02:00', 'IMPRESSION: Small nodule.'),
      imagingStudy: { resourceType: 'ImagingStudy', status: 'available', subject: {}, started: '2025-06-01T08:00:00+02:00', modality: [{ code: 'CT', system: 'x' }], description: 'CT Chest' },
    },
    // Not radiology: a lab report is no prior.
    { report: priorReport('dr-lab', '2024-01-01T00:00:00Z', 'Hb 13.1', { category: [{ coding: [{ code: 'LAB' }] }] }) },
    // This order's own report (after a round trip) is no prior of itself.
    { report: priorReport('dr-own', '2026-11-21T00:00:00Z', 'IMPRESSION: own.', { basedOn: [{ reference: 'ServiceRequest/sr-1' }] }) },
    // conclusion only, RAD category
    { report: { ...priorReport('dr-conclusion', '2021-05-05', ''), presentedForm: undefined, conclusion: 'Healed rib fracture.', category: [{ coding: [{ code: 'RAD' }] }] } },
  ];
  return input;
}

function minimalOrder(): OrderInput {
  return {
    patient: { resourceType: 'Patient', id: 'pat-min', identifier: [{ system: 'urn:example:mrn', value: 'M-0' }] },
    serviceRequest: { resourceType: 'ServiceRequest', id: 'sr-min', status: 'active', intent: 'order', subject: { reference: 'Patient/pat-min' }, code: { coding: [{ display: 'XR Hand' }] } },
    imagingStudy: { resourceType: 'ImagingStudy', id: 'is-min', status: 'registered', subject: { reference: 'Patient/pat-min' }, identifier: [{ system: 'urn:dicom:uid', value: 'urn:oid:2.25.1' }] },
    priors: [],
  };
}

function namePartsOrder(): OrderInput {
  const input = orderInput(2);
  input.patient.name = [{ family: 'Okafor', given: ['Adaeze', 'N.'] }];
  input.patient.gender = 'unknown';
  input.serviceRequest.requester = { reference: 'Practitioner/pr-1' };
  input.serviceRequest.performer = undefined;
  input.serviceRequest.locationReference = [{ display: 'North Wing' }];
  input.requester = { resourceType: 'Practitioner', id: 'pr-1', name: [{ family: 'Lindqvist', given: ['Tomas'] }] };
  input.imagingStudy.started = '2026-11-20T23:30:00Z';
  input.imagingStudy.description = undefined;
  return input;
}

const SCENARIOS: { title: string; golden: string; input: () => OrderInput; options?: Parameters<typeof orderOptions>[0] }[] = [
  { title: 'an order with every mapped field and mixed prior reports, capped at 2', golden: 'orders-full.json', input: fullOrder, options: { priorReportsMax: 2 } },
  { title: 'an order with only what is required', golden: 'orders-minimal.json', input: minimalOrder },
  { title: 'a name from its parts, a Practitioner requester, a location, in Europe/Berlin', golden: 'orders-name-parts-berlin.json', input: namePartsOrder, options: { studyTimeZone: 'Europe/Berlin' } },
];

describe('order -> Avara study create body golden files', () => {
  for (const scenario of SCENARIOS) {
    it(`maps ${scenario.title} to ${scenario.golden}, a body Avara's create accepts`, () => {
      const body = mapOrderToStudy(scenario.input(), orderOptions(scenario.options));
      expectGolden(scenario.golden, body);
      expect(StudyCreateBodySchema.safeParse(body).success).toBe(true);
    });
  }
});
