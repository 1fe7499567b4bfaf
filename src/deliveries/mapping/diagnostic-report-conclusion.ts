import type { SignedReport } from './delivery-input.ts';
import { extractConclusion, hasImpressionLine } from './extract-conclusion.ts';

/**
 * `DiagnosticReport.conclusion` (fhir-mapping.md): the impression of the latest signed text that
 * has an `IMPRESSION:` line. When addenda without one were signed after it, a note naming the
 * latest of them follows, so no reader takes the older impression for the last word.
 * `signed` is in signing order; `ownTexts` are the reports' own texts (an addendum that repeats the
 * report carries the original's impression, which is not its own).
 */
export function diagnosticReportConclusion(
  signed: readonly SignedReport[],
  ownTexts: ReadonlyMap<SignedReport, string | undefined>,
): string | undefined {
  const index = lastIndexWhere(signed, (r) => hasImpressionLine(ownTexts.get(r)));
  if (index < 0) return undefined;
  const impression = extractConclusion(ownTexts.get(signed[index]!));
  if (impression === undefined) return undefined;
  // Everything after `index` lacks an impression; the latest one is the newest word on the study.
  const later = signed.slice(index + 1);
  const laterAddendum = later[lastIndexWhere(later, (r) => r.report.isAddendum)];
  if (!laterAddendum) return impression;
  return `${impression}\n\nAddendum signed ${laterAddendum.report.signedAt}: see the full report.`;
}

// Array.prototype.findLastIndex is ES2023; the project targets ES2022.
function lastIndexWhere<T>(items: readonly T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!)) return i;
  return -1;
}
