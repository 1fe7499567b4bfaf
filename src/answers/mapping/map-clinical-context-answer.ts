import type { DocumentReference } from '@medplum/fhirtypes';
import { compact, conceptText, joinedText } from '../../fhir/element-text.ts';
import { mapPriorReports } from '../../orders/mapping/map-prior-reports.ts';
import type { ClinicalContextAnswer, ClinicalContextInput, SyncAnswerOptions } from './answer-types.ts';

export interface ClinicalNotesLimits {
  /** How many of the newest clinical notes go along. */
  maxDocuments: number;
  /** Characters kept of each note. */
  maxCharsPerDocument: number;
  /** Size of each `content` chunk (Avara takes a document as text chunks). */
  chunkChars: number;
}

export const DEFAULT_NOTES_LIMITS: ClinicalNotesLimits = { maxDocuments: 5, maxCharsPerDocument: 20_000, chunkChars: 4_000 };

// Our own delivered radiology reports are DocumentReferences too; they already come as priorReports.
const RADIOLOGY_REPORT_LOINC = '18748-4';

/**
 * avara-api.md §7.3.7 from the EHR: the order's reasons as the indication, the ImagingStudy's
 * notes as the technique, the order's notes as technologist notes, earlier radiology reports
 * exactly as the orders direction sends them, and the newest text/plain clinical notes.
 */
export function mapClinicalContextAnswer(input: ClinicalContextInput, options: SyncAnswerOptions, limits: ClinicalNotesLimits = DEFAULT_NOTES_LIMITS): ClinicalContextAnswer {
  const { serviceRequest: order, imagingStudy: study } = input;
  const ownRefs = [order?.id ? `ServiceRequest/${order.id}` : undefined, study?.id ? `ImagingStudy/${study.id}` : undefined].filter((r): r is string => !!r);
  const priorReports = mapPriorReports(input.priors, options.priorReportsMax, ownRefs, options.studyTimeZone);
  const notes = (order?.note ?? []).map((n) => n.text?.trim()).filter((t): t is string => !!t);
  const documents = mapClinicalNotes(input.notes, limits);
  return compact({
    clinicalIndication: joinedText((order?.reasonCode ?? []).map(conceptText), '; '),
    technologistTechnique: joinedText((study?.note ?? []).map((n) => n.text), '\n'),
    technologistNotes: notes.length > 0 ? notes : undefined,
    priorReports: priorReports.length > 0 ? priorReports : undefined,
    documents: documents.length > 0 ? documents : undefined,
  });
}

function mapClinicalNotes(notes: DocumentReference[], limits: ClinicalNotesLimits): { fileName: string; content: string[] }[] {
  return notes
    .filter((d) => d.status === 'current' && d.docStatus !== 'entered-in-error' && !isRadiologyReport(d))
    .map((d) => ({ doc: d, text: plainText(d), at: Date.parse(d.date ?? '') || 0 }))
    .filter((n): n is typeof n & { text: string } => n.text !== undefined)
    .sort((a, b) => b.at - a.at || (a.doc.id ?? '').localeCompare(b.doc.id ?? ''))
    .slice(0, limits.maxDocuments)
    .map(({ doc, text }) => ({ fileName: fileName(doc), content: chunk(cut(text, limits.maxCharsPerDocument), limits.chunkChars) }));
}

function isRadiologyReport(doc: DocumentReference): boolean {
  const reportsAStudy = doc.context?.related?.some((r) => r.reference?.startsWith('DiagnosticReport/'));
  return !!reportsAStudy || !!doc.type?.coding?.some((c) => c.code === RADIOLOGY_REPORT_LOINC);
}

function plainText(doc: DocumentReference): string | undefined {
  const attachment = doc.content?.map((c) => c.attachment).find((a) => a?.contentType?.startsWith('text/plain') && a.data);
  const text = attachment?.data ? Buffer.from(attachment.data, 'base64').toString('utf8').trim() : undefined;
  return text ? text : undefined;
}

function fileName(doc: DocumentReference): string {
  const title = doc.content?.find((c) => c.attachment?.title)?.attachment?.title ?? doc.description ?? conceptText(doc.type) ?? 'Clinical note';
  const date = doc.date?.slice(0, 10);
  const base = date && !title.includes(date) ? `${title} ${date}` : title;
  return /\.txt$/i.test(base) ? base : `${base}.txt`;
}

function chunk(text: string, size: number): string[] {
  const chunks: string[] = [];
  for (let at = 0; at < text.length; ) {
    let end = Math.min(at + size, text.length);
    if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end -= 1;
    chunks.push(text.slice(at, end));
    at = end;
  }
  return chunks;
}

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(head) ? head.slice(0, -1) : head;
}
