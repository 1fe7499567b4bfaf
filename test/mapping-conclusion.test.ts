import { describe, expect, it } from 'vitest';
import { diagnosticReportConclusion } from '../src/deliveries/mapping/diagnostic-report-conclusion.ts';
import { extractConclusion } from '../src/deliveries/mapping/extract-conclusion.ts';
import { orderSignedReports } from '../src/deliveries/mapping/order-signed-reports.ts';
import { ownReportTexts } from '../src/deliveries/mapping/own-report-texts.ts';
import type { SignedReport } from '../src/deliveries/mapping/delivery-input.ts';
import { addendum1, addendum2, ORIGINAL_TEXT, originalReport } from './fixtures/mapping-fixtures.ts';

describe('extracting the conclusion from the report text', () => {
  it('takes the text after IMPRESSION: up to the next heading that has text after it', () => {
    const text = 'FINDINGS: Clear lungs.\nIMPRESSION: No acute abnormality.\nRECOMMENDATION: None.';
    expect(extractConclusion(text)).toBe('No acute abnormality.');
  });

  it('stops at a heading line with nothing after the colon', () => {
    const text = 'IMPRESSION:\n1. Small effusion.\n2. No pneumothorax.\nRECOMMENDATIONS:\nFollow-up radiograph.';
    expect(extractConclusion(text)).toBe('1. Small effusion.\n2. No pneumothorax.');
  });

  it('recognises the label in any case', () => {
    expect(extractConclusion('Impression: Normal study.')).toBe('Normal study.');
    expect(extractConclusion('impression:  Normal study.  ')).toBe('Normal study.');
  });

  it('runs to the end of the text when the impression is last', () => {
    const text = 'FINDINGS: Clear.\nIMPRESSION: Normal.\nNo change from prior.\n\n';
    expect(extractConclusion(text)).toBe('Normal.\nNo change from prior.');
  });

  it('is absent when there is no impression', () => {
    expect(extractConclusion('FINDINGS: No fracture.')).toBeUndefined();
  });

  it('is absent when there is no text', () => {
    expect(extractConclusion(undefined)).toBeUndefined();
  });

  it('is absent when the impression is empty', () => {
    expect(extractConclusion('IMPRESSION:\nCOMMENT: none')).toBeUndefined();
  });

  it('does not end at a mixed-case line with a colon', () => {
    expect(extractConclusion('IMPRESSION: Nodule.\nNote: compare with prior.')).toBe('Nodule.\nNote: compare with prior.');
  });

  it('does not end at a line that starts with a time of day', () => {
    expect(extractConclusion('IMPRESSION: Pneumothorax.\n14:05 discussed with Dr. Lee.')).toBe('Pneumothorax.\n14:05 discussed with Dr. Lee.');
  });

  it('only finds the label at the start of a line', () => {
    expect(extractConclusion('FINDINGS: My IMPRESSION: is nothing.')).toBeUndefined();
  });

  it('handles Windows line breaks', () => {
    expect(extractConclusion('IMPRESSION: Normal.\r\nPLAN: None.')).toBe('Normal.');
  });
});

describe('the conclusion of a study with addenda', () => {
  const conclude = (reports: SignedReport[]) => {
    const signed = orderSignedReports(reports);
    const original = signed.find((r) => !r.report.isAddendum)!;
    return diagnosticReportConclusion(signed, ownReportTexts(original, signed.filter((r) => r !== original)));
  };
  const ORIGINAL_IMPRESSION = 'No acute cardiopulmonary abnormality.';

  it('is the original impression alone when nothing was signed after it', () => {
    expect(conclude([originalReport()])).toBe(ORIGINAL_IMPRESSION);
  });

  it('is the impression of the latest addendum that has one, without a note', () => {
    expect(conclude([originalReport(), addendum1(), addendum2()])).toBe('4 mm right upper lobe nodule. No acute abnormality.');
  });

  it('keeps the older impression and says that an addendum without one followed, with its signedAt exactly as Avara gives it', () => {
    const later = addendum1({ signedAt: '2026-08-21T11:47:36.250-04:00' });
    expect(conclude([originalReport(), later])).toBe(
      `${ORIGINAL_IMPRESSION}\n\nAddendum signed 2026-08-21T11:47:36.250-04:00: see the full report.`,
    );
  });

  it('names the latest of several addenda without an impression', () => {
    const first = addendum1({ signedAt: '2026-08-21T15:47:36Z' });
    const second = { ...addendum2({ signedAt: '2026-08-22T09:14:05Z' }), plainText: 'Corrected laterality: left.' };
    expect(conclude([second, originalReport(), first])).toBe(
      `${ORIGINAL_IMPRESSION}\n\nAddendum signed 2026-08-22T09:14:05Z: see the full report.`,
    );
  });

  it('adds the note after an addendum impression when a later addendum has none', () => {
    const later = { ...addendum1({ signedAt: '2026-08-23T08:00:00Z' }) };
    expect(conclude([originalReport(), addendum2(), later])).toBe(
      '4 mm right upper lobe nodule. No acute abnormality.\n\nAddendum signed 2026-08-23T08:00:00Z: see the full report.',
    );
  });

  it('adds the note for an addendum Avara has no text for', () => {
    expect(conclude([originalReport(), { ...addendum1(), plainText: undefined }])).toBe(
      `${ORIGINAL_IMPRESSION}\n\nAddendum signed 2026-08-21T15:47:36Z: see the full report.`,
    );
  });

  it('takes the impression an addendum adds after repeating the whole report, not the repeated one', () => {
    const repeating = { ...addendum1(), plainText: `${ORIGINAL_TEXT}\nADDENDUM: New nodule.\nIMPRESSION: 4 mm nodule.` };
    expect(conclude([originalReport(), repeating])).toBe('4 mm nodule.');
  });

  it('treats an addendum that only repeats the whole report as one without an impression', () => {
    const repeating = { ...addendum1(), plainText: `${ORIGINAL_TEXT}\n` };
    expect(conclude([originalReport(), repeating])).toBe(
      `${ORIGINAL_IMPRESSION}\n\nAddendum signed 2026-08-21T15:47:36Z: see the full report.`,
    );
  });

  it('is absent, with no note, when no text has an impression', () => {
    expect(conclude([originalReport({}, 'FINDINGS: Clear.'), addendum1()])).toBeUndefined();
  });
});
