import type { SignedReport } from './delivery-input.ts';

// Stands in for a report Avara gave no text for, so the combined text never hides that an
// addendum exists (or reads as if the addendum were the whole report).
export const MISSING_TEXT_NOTICE = '[No text available from Avara for this report; see the PDF.]';

/**
 * `presentedForm[0]` of the DiagnosticReport (fhir-mapping.md): the original text, then for each
 * addendum a blank line, `--- ADDENDUM <signedAt exactly as Avara gives it> ---` and its text.
 * `undefined` when no report has text at all (the PDF-only case).
 */
export function combineReportTexts(original: SignedReport, addenda: readonly SignedReport[]): string | undefined {
  const all = [original, ...addenda];
  if (all.every((r) => !hasText(r.plainText))) return undefined;
  const sections = [bodyOf(original)];
  for (const addendum of addenda) {
    sections.push(`--- ADDENDUM ${addendum.report.signedAt} ---\n${bodyOf(addendum)}`);
  }
  return sections.join('\n\n');
}

export function hasText(text: string | undefined): text is string {
  return text !== undefined && text.trim() !== '';
}

// Trailing line breaks are dropped so that exactly one blank line separates the sections.
function bodyOf(report: SignedReport): string {
  return hasText(report.plainText) ? report.plainText.replace(/(\r?\n)+$/, '') : MISSING_TEXT_NOTICE;
}
