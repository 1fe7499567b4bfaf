import type { SignedReport } from './delivery-input.ts';

// Stands in for a report Avara gave no text for, so the combined text never hides that an
// addendum exists (or reads as if the addendum were the whole report).
export const MISSING_TEXT_NOTICE = '[No text available from Avara for this report; see the PDF.]';

// Stands in for an addendum whose text only repeats the report above it, so its section does not
// look cut off.
export const REPEATED_TEXT_NOTICE = '[This addendum repeats the report above and adds no text of its own.]';

/**
 * `presentedForm[0]` of the DiagnosticReport (fhir-mapping.md): the original text, then for each
 * addendum a blank line, `--- ADDENDUM <signedAt exactly as Avara gives it> ---` and its own text
 * (`ownReportTexts`: without a repeat of the report before it). `undefined` when no report has
 * text at all (the PDF-only case).
 */
export function combineReportTexts(
  original: SignedReport,
  addenda: readonly SignedReport[],
  ownTexts: ReadonlyMap<SignedReport, string | undefined>,
): string | undefined {
  if ([original, ...addenda].every((r) => !hasText(r.plainText))) return undefined;
  const sections = [bodyOf(ownTexts.get(original))];
  for (const addendum of addenda) {
    sections.push(`--- ADDENDUM ${addendum.report.signedAt} ---\n${addendumBody(ownTexts.get(addendum))}`);
  }
  return sections.join('\n\n');
}

export function hasText(text: string | undefined): text is string {
  return text !== undefined && text.trim() !== '';
}

// `ownText` is '' when the addendum only repeated the report, undefined when Avara has no text.
function addendumBody(ownText: string | undefined): string {
  if (ownText !== undefined && !hasText(ownText)) return REPEATED_TEXT_NOTICE;
  return bodyOf(ownText);
}

// Trailing line breaks are dropped so that exactly one blank line separates the sections.
function bodyOf(text: string | undefined): string {
  return hasText(text) ? text.replace(/(\r?\n)+$/, '') : MISSING_TEXT_NOTICE;
}
