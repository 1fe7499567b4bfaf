import { hasText } from './combine-report-texts.ts';
import type { SignedReport } from './delivery-input.ts';
import { stripRepeatedReport } from './strip-repeated-report.ts';

/**
 * What each report itself says: its text, except that an addendum beginning with the whole text
 * of the report before it loses that repeat ('' when it adds nothing). "The report before it" is
 * read both as each earlier report's text as Avara gave it and as the report so far (the earlier
 * reports' own texts in order), whichever repeat is longer. `undefined` when Avara has no text. Both `presentedForm[0]` and `conclusion` read these, so a repeated
 * original impression is neither shown twice nor taken for the addendum's own.
 */
export function ownReportTexts(original: SignedReport, addenda: readonly SignedReport[]): Map<SignedReport, string | undefined> {
  const all = [original, ...addenda];
  const own = new Map<SignedReport, string | undefined>([[original, hasText(original.plainText) ? original.plainText : undefined]]);
  addenda.forEach((addendum, index) => {
    const text = addendum.plainText;
    if (!hasText(text)) return void own.set(addendum, undefined);
    const earlier = all.slice(0, index + 1);
    const reportSoFar = earlier.map((r) => own.get(r)).filter(hasText).join('\n');
    const earlierTexts = [...earlier.map((r) => r.plainText).filter(hasText), reportSoFar];
    own.set(addendum, stripRepeatedReport(text, earlierTexts) ?? text);
  });
  return own;
}
