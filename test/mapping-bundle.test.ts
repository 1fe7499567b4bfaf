import type { Bundle, DiagnosticReport, DocumentReference, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { buildDeliveryBundle } from '../src/deliveries/mapping/build-delivery-bundle.ts';
import type { DeliveryInput } from '../src/deliveries/mapping/delivery-input.ts';
import { orderSignedReports } from '../src/deliveries/mapping/order-signed-reports.ts';
import {
  addendum1, addendum2, createPatient, fakePdf, fullStudy, mappingOptions, originalReport, ORIGINAL_ID, ADDENDUM_1_ID, ADDENDUM_2_ID,
} from './fixtures/mapping-fixtures.ts';

function build(input: Partial<DeliveryInput> = {}): Bundle {
  return buildDeliveryBundle({ study: fullStudy(), reports: [originalReport()], patient: createPatient(), ...input }, mappingOptions());
}

function resources<T extends Resource>(bundle: Bundle, type: T['resourceType']): T[] {
  return (bundle.entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
}

function decodedText(report: DiagnosticReport): string {
  return Buffer.from(report.presentedForm![0]!.data!, 'base64').toString('utf8');
}

describe('ordering the signed reports', () => {
  it('orders by signedAt, compared as instants', () => {
    const a = originalReport({ signedAt: '2026-08-21T15:31:40.5Z' });
    const b = addendum1({ signedAt: '2026-08-21T15:31:40Z' });
    expect(orderSignedReports([a, b]).map((r) => r.report.reportId)).toEqual([ADDENDUM_1_ID, ORIGINAL_ID]);
  });

  it('breaks a signedAt tie by createdAt', () => {
    const a = addendum1({ signedAt: '2026-08-21T16:00:00Z', createdAt: '2026-08-21T15:10:00Z' });
    const b = addendum2({ signedAt: '2026-08-21T16:00:00Z', createdAt: '2026-08-21T15:05:00Z' });
    expect(orderSignedReports([a, b]).map((r) => r.report.reportId)).toEqual([ADDENDUM_2_ID, ADDENDUM_1_ID]);
  });

  it('breaks a signedAt and createdAt tie by reportId', () => {
    const same = { signedAt: '2026-08-21T16:00:00Z', createdAt: '2026-08-21T15:00:00Z' };
    expect(orderSignedReports([addendum1(same), addendum2(same)]).map((r) => r.report.reportId)).toEqual([ADDENDUM_2_ID, ADDENDUM_1_ID]);
  });

  it('leaves out reports that are not completed or have no signedAt', () => {
    const inProgress = addendum1({ status: 'in_progress' });
    const unsigned = addendum2({ signedAt: null });
    expect(orderSignedReports([inProgress, unsigned, originalReport()]).map((r) => r.report.reportId)).toEqual([ORIGINAL_ID]);
  });
});

describe('the delivery bundle', () => {
  it('puts entries in the order Patient, Practitioners, ImagingStudy, DocumentReferences, DiagnosticReport', () => {
    const bundle = build({ reports: [addendum2(), originalReport(), addendum1()] });
    expect(bundle.entry!.map((e) => e.resource!.resourceType)).toEqual([
      'Patient', 'Practitioner', 'Practitioner', 'ImagingStudy', 'DocumentReference', 'DocumentReference', 'DocumentReference', 'DiagnosticReport',
    ]);
  });

  it('references only entries of the bundle or the existing patient', () => {
    const bundle = build({ reports: [addendum2(), originalReport(), addendum1()], patient: { kind: 'existing', reference: 'Patient/42' } });
    const fullUrls = new Set(bundle.entry!.map((e) => e.fullUrl));
    const references = JSON.stringify(bundle).match(/"reference":"[^"]+"/g)!.map((r) => r.slice(13, -1));
    for (const reference of references) expect(reference === 'Patient/42' || fullUrls.has(reference)).toBe(true);
    expect(bundle.entry!.every((e) => /^urn:uuid:[0-9a-f-]{36}$/.test(e.fullUrl!))).toBe(true);
  });

  it('has no Patient entry when the EHR already has the patient', () => {
    const bundle = build({ patient: { kind: 'existing', reference: 'Patient/42' } });
    expect(resources(bundle, 'Patient')).toHaveLength(0);
    expect(resources<DiagnosticReport>(bundle, 'DiagnosticReport')[0]!.subject).toEqual({ reference: 'Patient/42' });
  });

  it('lays out the original text and each addendum under its signedAt, exactly as Avara gives it', () => {
    const report = resources<DiagnosticReport>(build({ reports: [addendum1(), { ...originalReport(), plainText: 'FINDINGS: A.\n\n' }] }), 'DiagnosticReport')[0]!;
    expect(decodedText(report)).toBe(
      'FINDINGS: A.\n\n--- ADDENDUM 2026-08-21T15:47:36Z ---\nADDENDUM: Comparison with the chest radiograph of 2024-02-09 shows no interval change.',
    );
  });

  it('marks an addendum without text instead of dropping it from the combined text', () => {
    const report = resources<DiagnosticReport>(build({ reports: [{ ...addendum1(), plainText: undefined }, originalReport()] }), 'DiagnosticReport')[0]!;
    expect(decodedText(report)).toContain('--- ADDENDUM 2026-08-21T15:47:36Z ---\n[No text available from Avara for this report; see the PDF.]');
  });

  it('follows an older impression with a note when an addendum without one was signed after it', () => {
    const report = resources<DiagnosticReport>(build({ reports: [addendum1(), originalReport()] }), 'DiagnosticReport')[0]!;
    expect(report.conclusion).toBe('No acute cardiopulmonary abnormality.\n\nAddendum signed 2026-08-21T15:47:36Z: see the full report.');
  });

  it('lists the original signer first and each signer once', () => {
    const bundle = build({ reports: [addendum2(), addendum1(), originalReport()] });
    const [haddad, abernathy] = bundle.entry!.filter((e) => e.resource!.resourceType === 'Practitioner').map((e) => e.fullUrl);
    const report = resources<DiagnosticReport>(bundle, 'DiagnosticReport')[0]!;
    expect(report.performer).toEqual([{ reference: haddad }, { reference: abernathy }]);
    expect(report.resultsInterpreter).toEqual(report.performer);
  });

  it('falls back to the original signedAt for effectiveDateTime when there is no study date', () => {
    const study = fullStudy({ reportMetadata: { mrn: 'H-00482913', patientName: 'Adaeze Okafor' } });
    const bundle = build({ study, reports: [addendum1({ snapshotMetadata: {} }), originalReport({ snapshotMetadata: {} })] });
    expect(resources<DiagnosticReport>(bundle, 'DiagnosticReport')[0]!.effectiveDateTime).toBe('2026-08-21T15:31:40Z');
    expect(resources<DocumentReference>(bundle, 'DocumentReference')[0]!.context).not.toHaveProperty('period');
  });

  it('formats the PDF content of each DocumentReference as mimeTypeSufficient in the system R4 formatcodes uses', () => {
    const [document] = resources<DocumentReference>(build(), 'DocumentReference');
    expect(document!.content[0]!.format).toEqual({
      system: 'http://ihe.net/fhir/ValueSet/IHE.FormatCode.codesystem',
      code: 'urn:ihe:iti:xds:2017:mimeTypeSufficient',
      display: 'mimeType Sufficient',
    });
  });

  it('ignores a basedOn value that is not a ServiceRequest reference', () => {
    const bundle = build({ study: fullStudy({ metadata: { fhirServiceRequest: 'https://ehr.example/order?id=1' } }) });
    expect(resources<DiagnosticReport>(bundle, 'DiagnosticReport')[0]).not.toHaveProperty('basedOn');
  });

  it('uses the latest snapshot for a demographic the study no longer has', () => {
    const study = fullStudy({ reportMetadata: { ...fullStudy().reportMetadata, dateOfBirth: undefined } });
    const bundle = build({ study, reports: [originalReport({ snapshotMetadata: { dateOfBirth: '1971-11-30' } })] });
    expect(resources(bundle, 'Patient')[0]).toMatchObject({ birthDate: '1971-11-30' });
  });
});

describe('inputs the mapping refuses', () => {
  it('retries when no report of the study is signed yet', () => {
    expect(() => build({ reports: [addendum1({ status: 'in_progress' })] })).toThrow(expect.objectContaining({ code: 'report_not_signed', retryable: true }));
  });

  it('refuses a report of another study', () => {
    const foreign = originalReport({ studyId: 'stu_ffffffffffffffffffffffffffffffff' });
    expect(() => build({ reports: [foreign] })).toThrow(expect.objectContaining({ code: 'internal', retryable: false }));
  });

  it('retries when a PDF is not a PDF', () => {
    const notPdf = { ...originalReport(), pdf: new TextEncoder().encode('<html>expired</html>') };
    expect(() => build({ reports: [notPdf] })).toThrow(expect.objectContaining({ code: 'pdf_invalid', retryable: true }));
  });

  it('stops for a person when there are two signed originals', () => {
    const second = { ...addendum1({ isAddendum: false }), pdf: fakePdf('second') };
    expect(() => build({ reports: [originalReport(), second] })).toThrow(expect.objectContaining({ code: 'avara_bad_response', retryable: false }));
  });

  it('refuses to create a patient when neither the study nor its latest report names one', () => {
    const study = fullStudy({ reportMetadata: { ...fullStudy().reportMetadata, patientName: undefined } });
    const reports = [originalReport({ snapshotMetadata: { mrn: 'H-00482913' } })];
    expect(() => build({ study, reports })).toThrow(expect.objectContaining({ code: 'patient_name_missing', retryable: false }));
  });

  it('still delivers a study without a patient name to the patient the EHR already has', () => {
    const study = fullStudy({ reportMetadata: { ...fullStudy().reportMetadata, patientName: undefined } });
    const bundle = build({ study, reports: [originalReport({ snapshotMetadata: {} })], patient: { kind: 'existing', reference: 'Patient/42' } });
    expect(resources<DiagnosticReport>(bundle, 'DiagnosticReport')[0]!.subject).toEqual({ reference: 'Patient/42' });
  });

  it('refuses to create a patient keyed by an identifier the patient would not carry', () => {
    expect(() => build({ patient: createPatient('H-99999999') })).toThrow(expect.objectContaining({ code: 'internal', retryable: false }));
  });
});
