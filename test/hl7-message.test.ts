import { createHash } from 'node:crypto';
import { Hl7Message } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { SyncError } from '../src/errors.ts';
import { buildHl7Message } from '../src/deliveries/targets/hl7v2/mapping/build-hl7-message.ts';
import type { Hl7MessageInput } from '../src/deliveries/targets/hl7v2/mapping/hl7-message-input.ts';
import { ADDENDUM_1_ID, addendum1, fullStudy, ORIGINAL_ID, originalReport } from './fixtures/mapping-fixtures.ts';
import { hl7Options } from './fixtures/hl7-scenarios.ts';

const original = (): Hl7MessageInput => ({ study: fullStudy(), reports: [originalReport()], reportId: ORIGINAL_ID });
const withAddendum = (reportId = ADDENDUM_1_ID): Hl7MessageInput => ({ study: fullStudy(), reports: [originalReport(), addendum1()], reportId });
const at = (iso: string) => hl7Options({ now: () => new Date(iso) });
const field = (text: string, segment: string, n: number) => Hl7Message.parse(text).getSegment(segment)!.getField(n).toString();

function thrown(build: () => unknown): SyncError {
  try {
    build();
  } catch (error) {
    if (error instanceof SyncError) return error;
    throw error;
  }
  throw new Error('expected a SyncError');
}

describe('MSH-10 control id and content hash', () => {
  it('is the same for a resend of the same content at another time, which only changes MSH-7', () => {
    const first = buildHl7Message(original(), at('2026-08-22T10:00:00Z'));
    const resend = buildHl7Message(original(), at('2026-08-23T18:30:00Z'));
    expect(resend.controlId).toBe(first.controlId);
    expect(resend.contentHash).toBe(first.contentHash);
    expect(field(first.text, 'MSH', 7)).toBe('20260822100000+0000');
    expect(field(resend.text, 'MSH', 7)).toBe('20260823183000+0000');
  });

  it('is at most 20 characters: 8 from the study id, then the first 12 of the content hash', () => {
    const message = buildHl7Message(original(), hl7Options());
    expect(message.controlId).toHaveLength(20);
    expect(message.controlId).toBe(`6dd99d7b${message.contentHash.slice(0, 12)}`);
  });

  it('hashes the whole message as sent but for MSH-7 and MSH-10', () => {
    const message = buildHl7Message(original(), hl7Options());
    const parsed = Hl7Message.parse(message.text);
    parsed.getSegment('MSH')!.setField(7, '');
    parsed.getSegment('MSH')!.setField(10, '');
    expect(createHash('sha256').update(parsed.toString(), 'utf8').digest('hex')).toBe(message.contentHash);
  });

  it('changes with new content: an addendum, corrected demographics, another receiver', () => {
    const base = buildHl7Message(original(), hl7Options()).controlId;
    const corrected = { ...original(), study: fullStudy({ reportMetadata: { ...fullStudy().reportMetadata, dateOfBirth: '1971-11-04' } }) };
    expect(buildHl7Message(withAddendum(), hl7Options()).controlId).not.toBe(base);
    expect(buildHl7Message(corrected, hl7Options()).controlId).not.toBe(base);
    expect(buildHl7Message(original(), hl7Options({ receivingFacility: 'OTHER' })).controlId).not.toBe(base);
  });

  it('is the same ORU for the original and the addendum once both are signed (the study state is the content)', () => {
    const forOriginal = buildHl7Message(withAddendum(ORIGINAL_ID), hl7Options());
    const forAddendum = buildHl7Message(withAddendum(ADDENDUM_1_ID), hl7Options());
    expect(forOriginal.text).toBe(forAddendum.text);
  });

  it('differs between the MDM T02 of the original and the T06 of its addendum', () => {
    const t02 = buildHl7Message(withAddendum(ORIGINAL_ID), hl7Options({ messageType: 'MDM^T02' }));
    const t06 = buildHl7Message(withAddendum(ADDENDUM_1_ID), hl7Options({ messageType: 'MDM^T02' }));
    expect([t02.messageType, t06.messageType]).toEqual(['MDM^T02^MDM_T02', 'MDM^T06^MDM_T06']);
    expect(t06.controlId).not.toBe(t02.controlId);
  });
});

describe('PID-8 administrative sex', () => {
  it.each([
    ['male', 'M'], ['FEMALE', 'F'], [' other ', 'O'], ['unknown', 'U'], ['intersex', 'U'], [undefined, 'U'],
  ])('writes Avara sex %j as %s', (sex, expected) => {
    const study = fullStudy({ reportMetadata: { ...fullStudy().reportMetadata, sex } });
    const report = originalReport({ snapshotMetadata: study.reportMetadata });
    expect(field(buildHl7Message({ study, reports: [report], reportId: ORIGINAL_ID }, hl7Options()).text, 'PID', 8)).toBe(expected);
  });
});

describe('what stops a message from being built', () => {
  it('stops as patient_unidentified, permanently, without an MRN and an external id', () => {
    const study = fullStudy({ reportMetadata: { ...fullStudy().reportMetadata, mrn: undefined }, externalPatientId: ' ' });
    const error = thrown(() => buildHl7Message({ study, reports: [originalReport({ snapshotMetadata: study.reportMetadata })], reportId: ORIGINAL_ID }, hl7Options()));
    expect([error.code, error.retryable]).toEqual(['patient_unidentified', false]);
  });

  it('retries as report_not_signed while the study has no signed report, as the FHIR mapping does', () => {
    const error = thrown(() => buildHl7Message({ ...original(), reports: [originalReport({ status: 'in_progress', signedAt: null })] }, hl7Options()));
    expect([error.code, error.retryable]).toEqual(['report_not_signed', true]);
  });

  it('stops as avara_bad_response, permanently, with two signed originals, as the FHIR mapping does', () => {
    const second = originalReport({ reportId: 'rep_00000000000000000000000000000002' });
    const error = thrown(() => buildHl7Message({ ...original(), reports: [originalReport(), second] }, hl7Options()));
    expect([error.code, error.retryable]).toEqual(['avara_bad_response', false]);
  });

  it('retries an MDM message whose report is not signed yet', () => {
    const error = thrown(() => buildHl7Message({ ...original(), reportId: ADDENDUM_1_ID }, hl7Options({ messageType: 'MDM^T02' })));
    expect([error.code, error.retryable]).toEqual(['report_not_signed', true]);
  });

  it('stops when Avara has no text and the PDF is not embedded, rather than file an empty result', () => {
    const input = { ...original(), reports: [{ ...originalReport(), plainText: undefined }] };
    const error = thrown(() => buildHl7Message(input, hl7Options({ embedPdf: false })));
    expect(error.retryable).toBe(false);
  });

  it('stops as avara_bad_response on a signedAt without a time zone instead of guessing one', () => {
    const error = thrown(() => buildHl7Message({ ...original(), reports: [originalReport({ signedAt: '2026-08-21T15:31:40' })] }, hl7Options()));
    expect([error.code, error.retryable]).toEqual(['avara_bad_response', false]);
  });
});

describe('purity', () => {
  it('leaves its input as it was', () => {
    const input = withAddendum();
    const before = structuredClone(input);
    buildHl7Message(input, hl7Options());
    expect(input).toEqual(before);
  });
});
