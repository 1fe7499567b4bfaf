import { Hl7Message, type Hl7Segment } from '@medplum/core';
import { SyncError } from '../../../../errors.ts';
import { hl7Instant } from '../../../../hl7/hl7-time.ts';
import type { SignedReport } from '../../../mapping/delivery-input.ts';
import type { BuiltHl7Message, Hl7MessageInput, Hl7MessageOptions, Hl7MessageType } from './hl7-message-input.ts';
import { messageContentHash, messageControlId } from './message-control-id.ts';
import { buildMsh } from './msh-segment.ts';
import { buildObxSegments } from './obx-segments.ts';
import { buildObr, buildOrc } from './order-segments.ts';
import { buildPid, buildPv1 } from './patient-segments.ts';
import { gatherReportFacts, type ReportFacts } from './gather-report-facts.ts';
import { buildTxa } from './txa-segment.ts';

/**
 * The one HL7 v2.5.1 message of an hl7v2 delivery (hl7v2-mapping.md): ORU^R01, or MDM^T02/T06
 * about the delivery's report, carrying the study's current signed content. Pure: the clock comes
 * in as `options.now` and only reaches MSH-7, which the control id ignores.
 */
export function buildHl7Message(input: Hl7MessageInput, options: Hl7MessageOptions): BuiltHl7Message {
  const facts = gatherReportFacts(input, options);
  const patient = [buildPid(input.study, facts.metadata, options), buildPv1(options)];
  const { messageType, segments } =
    options.messageType === 'MDM^T02' ? mdmSegments(facts, deliveredReport(facts, input.reportId), options) : oruSegments(facts, options);
  // The body (most of it the PDF) is written once; only MSH differs between the hashed and the sent form.
  const body = toText([...patient, ...segments]);
  const contentHash = messageContentHash(`${toText([buildMsh(options, messageType, { time: '', controlId: '' })])}\r${body}`);
  const controlId = messageControlId(input.study.studyId, contentHash);
  const text = `${toText([buildMsh(options, messageType, { time: hl7Instant(options.now()), controlId })])}\r${body}`;
  return { text, controlId, contentHash, messageType };
}

interface MessageBody {
  messageType: Hl7MessageType;
  segments: Hl7Segment[];
}

function oruSegments(facts: ReportFacts, options: Hl7MessageOptions): MessageBody {
  const observations = buildObxSegments(facts, { embedPdf: options.embedPdf, status: facts.resultStatus });
  return { messageType: 'ORU^R01^ORU_R01', segments: [buildOrc(facts), buildObr(facts, options), ...observations] };
}

// MDM notifies about one document: T02 for the original, T06 (edit notification) for an addendum.
function mdmSegments(facts: ReportFacts, document: SignedReport, options: Hl7MessageOptions): MessageBody {
  const observations = buildObxSegments(facts, { embedPdf: options.embedPdf, status: 'F' });
  const messageType = document === facts.original ? 'MDM^T02^MDM_T02' : 'MDM^T06^MDM_T06';
  return { messageType, segments: [buildTxa(facts, document), ...observations] };
}

function deliveredReport(facts: ReportFacts, reportId: string): SignedReport {
  const document = [facts.original, ...facts.addenda].find((r) => r.report.reportId === reportId);
  // Avara may briefly list a just-signed report as in progress (avara-api.md §10): try again.
  if (!document) throw SyncError.retryable('report_not_signed', `report ${reportId} is not among the signed reports of study ${facts.study.studyId}`);
  return document;
}

function toText(segments: Hl7Segment[]): string {
  return new Hl7Message(segments).toString();
}
