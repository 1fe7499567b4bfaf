import type { Report } from '../../../../avara/schemas.ts';
import { SyncError } from '../../../../errors.ts';
import { hl7Instant } from '../../../../hl7/hl7-time.ts';

/**
 * A signed report's `signedAt` as an HL7 timestamp. Avara's schema only promises a non-empty
 * string; one without a zone would be read in the host's zone, so it stops the delivery instead.
 */
export function hl7SignedAt(report: Report): string {
  try {
    return hl7Instant(report.signedAt ?? '');
  } catch (cause) {
    throw SyncError.permanent('avara_bad_response', `report ${report.reportId} has a signedAt that is not an ISO 8601 instant`, cause);
  }
}
