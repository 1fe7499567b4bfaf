import type { Hl7Segment } from '@medplum/core';
import { hl7DateTime } from '../../../../hl7/hl7-time.ts';
import { studyStarted } from '../../../mapping/study-started.ts';
import { buildSegment } from './build-segment.ts';
import { hl7SignedAt } from './hl7-signed-at.ts';
import type { Hl7MessageOptions } from './hl7-message-input.ts';
import type { ReportFacts } from './gather-report-facts.ts';
import { signerNameParts } from './signer-name-parts.ts';

/** ORC: a results status update (RE) of the order; filler order number = the Avara study id. */
export function buildOrc(facts: ReportFacts): Hl7Segment {
  return buildSegment('ORC', { 1: 'RE', 2: facts.placerOrderNumber, 3: facts.study.studyId, 5: 'CM' });
}

/** OBR: the study's one result, as the FHIR mapping's DiagnosticReport. */
export function buildObr(facts: ReportFacts, options: Pick<Hl7MessageOptions, 'studyTimeZone'>): Hl7Segment {
  const { study, metadata, original, latest } = facts;
  return buildSegment('OBR', {
    1: '1',
    2: facts.placerOrderNumber,
    3: study.studyId,
    4: [undefined, metadata.procedure ?? study.studyDescription],
    7: observationDateTime(facts, options.studyTimeZone),
    22: hl7SignedAt(latest.report),
    24: 'RAD',
    25: facts.resultStatus,
    32: [{ subcomponents: signerNameParts(original.signer) }],
  });
}

// hl7v2-mapping.md OBR-7: the study's date and time read in STUDY_TIME_ZONE, with its offset (a
// date alone without a time), else when the original was signed, as effectiveDateTime in FHIR.
function observationDateTime(facts: ReportFacts, timeZone: string): string {
  const started = studyStarted(facts.metadata.studyDate, facts.metadata.studyTime, timeZone);
  return started ? hl7DateTime(started) : hl7SignedAt(facts.original.report);
}
