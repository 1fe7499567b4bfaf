import type { SignedReport } from './delivery-input.ts';

/** A report whose sign-off Avara has recorded: `completed` with a `signedAt`. */
export function isSigned(report: SignedReport['report']): boolean {
  return report.status === 'completed' && typeof report.signedAt === 'string' && report.signedAt !== '';
}

/**
 * Keeps only signed reports, ordered by `signedAt`, then `createdAt`, then `reportId`
 * (fhir-mapping.md "DiagnosticReport"). Avara's list order is not chronological (avara-api.md §10),
 * and the tie-breakers make the order total, so the same state always yields the same Bundle.
 */
export function orderSignedReports(reports: readonly SignedReport[]): SignedReport[] {
  return reports.filter((r) => isSigned(r.report)).sort(compareSignedReports);
}

function compareSignedReports(a: SignedReport, b: SignedReport): number {
  return compareBySignOff(a.report, b.report);
}

/** The total order of sign-off used everywhere a "latest" report is picked. */
export function compareBySignOff(a: SignedReport['report'], b: SignedReport['report']): number {
  return (
    compareTimestamps(a.signedAt, b.signedAt) ||
    compareTimestamps(a.createdAt, b.createdAt) ||
    compareStrings(a.reportId, b.reportId)
  );
}

// Compared as instants, not strings: "…:36Z" sorts after "…:36.5Z" as text.
function compareTimestamps(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1; // unknown times last
  if (b === null) return -1;
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (Number.isNaN(ta) || Number.isNaN(tb) || ta === tb) return compareStrings(a, b);
  return ta - tb;
}

function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
