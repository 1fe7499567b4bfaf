import type { Bundle, DiagnosticReport } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { buildDeliveryBundle } from '../src/deliveries/mapping/build-delivery-bundle.ts';
import { stripRepeatedReport } from '../src/deliveries/mapping/strip-repeated-report.ts';
import { addendum1, addendum2, createPatient, fullStudy, mappingOptions, ORIGINAL_TEXT, originalReport } from './fixtures/mapping-fixtures.ts';

const ADDED = 'ADDENDUM: Comparison with the chest radiograph of 2024-02-09 shows no interval change.';

function combinedText(bundle: Bundle): string {
  const report = bundle.entry!.at(-1)!.resource as DiagnosticReport;
  return Buffer.from(report.presentedForm![0]!.data!, 'base64').toString('utf8');
}

function deliverWithAddendumText(text: string): string {
  const reports = [originalReport(), { ...addendum1(), plainText: text }];
  return combinedText(buildDeliveryBundle({ study: fullStudy(), reports, patient: createPatient() }, mappingOptions()));
}

describe('an addendum that begins with the whole report before it', () => {
  it('is cut to what follows the repeat', () => {
    expect(stripRepeatedReport(`${ORIGINAL_TEXT}\n${ADDED}`, [ORIGINAL_TEXT])).toBe(ADDED);
  });

  it('is cut to nothing when it only repeats the report', () => {
    expect(stripRepeatedReport(ORIGINAL_TEXT, [ORIGINAL_TEXT])).toBe('');
  });

  it('is recognised across CRLF and LF line endings, trailing blanks and blank lines between', () => {
    const crlf = `${ORIGINAL_TEXT.replaceAll('\n', '  \r\n')}\r\n\r\n${ADDED}\r\n`;
    expect(stripRepeatedReport(crlf, [`${ORIGINAL_TEXT}\n\n`])).toBe(`${ADDED}\r\n`);
    expect(stripRepeatedReport(`${ORIGINAL_TEXT}\n${ADDED}`, [ORIGINAL_TEXT.replaceAll('\n', '\r\n')])).toBe(ADDED);
    expect(stripRepeatedReport(`\n${ORIGINAL_TEXT}\n${ADDED}`, [ORIGINAL_TEXT.replaceAll('\n', '\n\n')])).toBe(ADDED);
  });

  it('loses the longest earlier report it repeats: the original and an earlier addendum together', () => {
    const earlierAddendum = `${ORIGINAL_TEXT}\n${ADDED}`;
    expect(stripRepeatedReport(`${earlierAddendum}\nA third remark.`, [ORIGINAL_TEXT, earlierAddendum])).toBe('A third remark.');
  });
});

describe('an addendum that does not begin with the whole report', () => {
  it('is kept whole when it merely shares the first line', () => {
    const text = 'EXAM: CT CHEST WITHOUT CONTRAST\nADDENDUM: Nodule missed.';
    expect(stripRepeatedReport(text, [ORIGINAL_TEXT])).toBeUndefined();
  });

  it('is kept whole when its last repeated line goes on with more words', () => {
    expect(stripRepeatedReport(`${ORIGINAL_TEXT} Unchanged.\n${ADDED}`, [ORIGINAL_TEXT])).toBeUndefined();
  });

  it('is kept whole when a line of the report in the middle differs', () => {
    const changed = ORIGINAL_TEXT.replace('Lungs are clear.', 'Lungs are clear bilaterally.');
    expect(stripRepeatedReport(`${changed}\n${ADDED}`, [ORIGINAL_TEXT])).toBeUndefined();
  });

  it('is kept whole when the report text is only blanks', () => {
    expect(stripRepeatedReport(ADDED, ['  \n'])).toBeUndefined();
  });
});

describe('presentedForm[0] of a study whose addendum repeats the report', () => {
  it('shows the repeated report once, then what the addendum adds', () => {
    expect(deliverWithAddendumText(`${ORIGINAL_TEXT}\r\n\r\n${ADDED}\r\n`)).toBe(`${ORIGINAL_TEXT}\n\n--- ADDENDUM 2026-08-21T15:47:36Z ---\n${ADDED}`);
  });

  it('says so when the addendum adds nothing to the report it repeats', () => {
    expect(deliverWithAddendumText(`${ORIGINAL_TEXT}\n`)).toBe(
      `${ORIGINAL_TEXT}\n\n--- ADDENDUM 2026-08-21T15:47:36Z ---\n[This addendum repeats the report above and adds no text of its own.]`,
    );
  });

  it('keeps an addendum that only shares the first line of the report whole', () => {
    const text = 'EXAM: CT CHEST WITHOUT CONTRAST\nADDENDUM: Nodule missed.';
    expect(deliverWithAddendumText(text)).toBe(`${ORIGINAL_TEXT}\n\n--- ADDENDUM 2026-08-21T15:47:36Z ---\n${text}`);
  });

  it('cuts a second addendum that repeats the original and the first addendum down to its own text', () => {
    const first = addendum1();
    const second = { ...addendum2(), plainText: `${ORIGINAL_TEXT}\n${first.plainText}\nA third remark.` };
    const text = combinedText(buildDeliveryBundle({ study: fullStudy(), reports: [originalReport(), first, second], patient: createPatient() }, mappingOptions()));
    expect(text).toBe(`${ORIGINAL_TEXT}\n\n--- ADDENDUM 2026-08-21T15:47:36Z ---\n${first.plainText}\n\n--- ADDENDUM 2026-08-22T09:14:05Z ---\nA third remark.`);
  });
});
