import { describe, expect, it } from 'vitest';
import { mapDocument } from '../src/deliveries/targets/fhir-documents/mapping/map-document.ts';
import type { DocumentInput, DocumentOptions } from '../src/deliveries/targets/fhir-documents/mapping/document-input.ts';
import { validateOneResource } from '../src/fhir/validate-resource.ts';
import { ABERNATHY, addendum1, addendum2, fullStudy, minimalStudy, originalReport, report, signed } from './fixtures/mapping-fixtures.ts';
import { expectGolden } from './support/expect-golden.ts';
import { usCoreErrors } from './support/validate-us-core.ts';

const OPTIONS: DocumentOptions = { content: 'pdf', identifierSystemBase: 'https://api.avarasoftware.com/fhir/sid', studyTimeZone: 'America/New_York' };

function input(overrides: Partial<DocumentInput> = {}): DocumentInput {
  return { study: fullStudy(), signed: originalReport(), patient: 'Patient/ehr-1', author: 'Practitioner/npi-1', original: undefined, encounter: undefined, ehrStarted: undefined, ...overrides };
}

const SCENARIOS: { title: string; golden: string; input: () => DocumentInput; options?: Partial<DocumentOptions> }[] = [
  { title: 'an original as its PDF, author found by NPI', golden: 'fhir-documents/original-pdf.json', input: () => input() },
  { title: 'an original as its text', golden: 'fhir-documents/original-text.json', input: () => input(), options: { content: 'text' } },
  {
    title: 'a critical addendum by a signer the EHR does not know, appending to the original',
    golden: 'fhir-documents/addendum-critical-display-author.json',
    input: () => input({ signed: addendum2({ isCritical: true }), author: undefined, original: 'DocumentReference/doc-original' }),
  },
  {
    title: 'a study from an EHR order, filed on its encounter at the EHR ImagingStudy time',
    golden: 'fhir-documents/ehr-order-encounter.json',
    input: () => input({
      study: fullStudy({ metadata: { accessionNumber: 'ACC88120457', fhirServiceRequest: 'ServiceRequest/sr-7' } }),
      encounter: 'Encounter/enc-3',
      ehrStarted: '2026-08-21T11:48:31-04:00',
    }),
  },
  {
    title: 'a minimal study (date only, no time)',
    golden: 'fhir-documents/minimal.json',
    input: () => input({ study: minimalStudy(), signed: signed(report({ reportId: 'rep_minimal', studyId: minimalStudy().studyId, userId: ABERNATHY.userId, snapshotMetadata: minimalStudy().reportMetadata }), ABERNATHY, undefined) }),
  },
];

describe('fhir-documents DocumentReference golden files', () => {
  for (const scenario of SCENARIOS) {
    it(`maps ${scenario.title} to ${scenario.golden}, valid R4 and US Core DocumentReference`, () => {
      const document = mapDocument(scenario.input(), { ...OPTIONS, ...scenario.options });
      expectGolden(scenario.golden, document);
      expect(() => validateOneResource(document)).not.toThrow();
      expect(usCoreErrors(document)).toEqual([]);
    });
  }
});

describe('mapDocument', () => {
  it('carries exactly one content entry, the PDF or the text', () => {
    expect(mapDocument(input(), OPTIONS).content.map((c) => c.attachment.contentType)).toEqual(['application/pdf']);
    expect(mapDocument(input(), { ...OPTIONS, content: 'text' }).content.map((c) => c.attachment.contentType)).toEqual(['text/plain; charset=utf-8']);
  });

  it('waits for text that Avara does not have yet when only text is sent', () => {
    const withoutText = input({ signed: originalReport({}, '  ') });
    expect(() => mapDocument(withoutText, { ...OPTIONS, content: 'text' })).toThrow(expect.objectContaining({ code: 'avara_bad_response', retryable: true }));
    expect(mapDocument(withoutText, OPTIONS).content).toHaveLength(1);
  });

  it('refuses to map an addendum without its original, which it must append to', () => {
    expect(() => mapDocument(input({ signed: addendum1() }), OPTIONS)).toThrow(expect.objectContaining({ code: 'internal' }));
  });

  it('names the signer in the display only when no Practitioner was found, and tags only critical reports', () => {
    const found = mapDocument(input(), OPTIONS);
    expect(found.author).toEqual([{ reference: 'Practitioner/npi-1' }]);
    expect(found.meta?.tag).toBeUndefined();
    const unknown = mapDocument(input({ author: undefined, signed: originalReport({ isCritical: true }) }), OPTIONS);
    expect(unknown.author).toEqual([{ display: 'Miriam R. Haddad, MD, FACR' }]);
    expect(unknown.meta?.tag?.map((t) => t.code)).toEqual(['AA']);
  });

  it('follows only a well-formed ServiceRequest reference from integrator metadata', () => {
    const junk = mapDocument(input({ study: fullStudy({ metadata: { fhirServiceRequest: 'http://elsewhere/ServiceRequest/1' } }) }), OPTIONS);
    expect(junk.context?.related).toBeUndefined();
  });
});
