import type { Hl7Segment } from '@medplum/core';
import type { SignedReport } from '../../../mapping/delivery-input.ts';
import { buildSegment } from './build-segment.ts';
import { hl7SignedAt } from './hl7-signed-at.ts';
import type { ReportFacts } from './gather-report-facts.ts';
import { signerNameParts } from './signer-name-parts.ts';

/**
 * TXA of an MDM message about `document` (the delivery's report): authenticated (AU) radiology
 * text, its own report id as the unique document number and, for an addendum, the original's as
 * parent. The originator is the document's signer: an addendum's author is who signed it.
 */
export function buildTxa(facts: ReportFacts, document: SignedReport): Hl7Segment {
  const isAddendum = document !== facts.original;
  return buildSegment('TXA', {
    2: 'RAD',
    3: 'TX',
    4: hl7SignedAt(facts.latest.report),
    9: signerNameParts(document.signer),
    12: document.report.reportId,
    13: isAddendum ? facts.original.report.reportId : undefined,
    17: 'AU',
  });
}
