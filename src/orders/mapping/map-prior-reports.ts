import type { DiagnosticReport } from '@medplum/fhirtypes';
import type { PriorReportInput } from '../../avara/study-write-schemas.ts';
import { toLocalDateTime } from '../../fhir/local-date-time.ts';
import type { PriorCandidate } from './order-input.ts';

const RADIOLOGY_CODES = new Set(['LP29684-5', 'RAD']);
// avara-api.md §5.5: reportText 1..50 000, modality 1..100, studyDescription 1..1000.
const MAX_TEXT = 50_000;

/**
 * The patient's earlier radiology reports, newest first, at most `max`, each cut to Avara's
 * limit. `excludeRefs` are this order's own ServiceRequest and ImagingStudy: the report that
 * comes back for this very study is not a prior of it.
 */
export function mapPriorReports(candidates: PriorCandidate[], max: number, excludeRefs: string[], timeZone: string): PriorReportInput[] {
  return candidates
    .filter(({ report }) => isRadiology(report) && report.status !== 'entered-in-error' && !isOwnReport(report, excludeRefs))
    .map((candidate) => ({ candidate, text: reportText(candidate.report), at: reportTime(candidate.report) }))
    .filter((c): c is typeof c & { text: string } => c.text !== undefined)
    // Newest first; equal or unknown times fall back to the id so the order is stable.
    .sort((a, b) => b.at - a.at || (a.candidate.report.id ?? '').localeCompare(b.candidate.report.id ?? ''))
    .slice(0, max)
    .map(({ candidate, text }) => {
      const study = candidate.imagingStudy;
      const modality = study?.modality?.[0]?.code;
      const studyDate = toLocalDateTime(study?.started, timeZone).studyDate;
      return {
        reportText: cut(text, MAX_TEXT),
        ...(candidate.report.id ? { externalStudyId: candidate.report.id } : {}),
        ...(modality ? { modality: cut(modality, 100) } : {}),
        ...(studyDate ? { studyDate } : {}),
        ...(study?.description ? { studyDescription: cut(study.description, 1000) } : {}),
      };
    });
}

function isRadiology(report: DiagnosticReport): boolean {
  return (report.category ?? []).some((c) => (c.coding ?? []).some((coding) => coding.code !== undefined && RADIOLOGY_CODES.has(coding.code)));
}

function isOwnReport(report: DiagnosticReport, excludeRefs: string[]): boolean {
  const refs = [...(report.basedOn ?? []), ...(report.imagingStudy ?? [])].map((r) => r.reference);
  return refs.some((ref) => ref !== undefined && excludeRefs.includes(ref));
}

function reportText(report: DiagnosticReport): string | undefined {
  const form = report.presentedForm?.find((a) => a.contentType?.startsWith('text/plain') && a.data);
  const text = form?.data ? Buffer.from(form.data, 'base64').toString('utf8') : report.conclusion;
  return text && text.trim() !== '' ? text : undefined;
}

/** When the reported study happened (else when the report was issued), as epoch ms; 0 unknown. */
function reportTime(report: DiagnosticReport): number {
  const at = Date.parse(report.effectiveDateTime ?? report.effectivePeriod?.start ?? report.issued ?? '');
  return Number.isNaN(at) ? 0 : at;
}

/** Cut to `max` UTF-16 units without leaving half of a surrogate pair at the end. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(head) ? head.slice(0, -1) : head;
}
