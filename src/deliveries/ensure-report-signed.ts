import type { Report } from '../avara/schemas.ts';
import { SyncError } from '../errors.ts';
import { isSigned } from './mapping/order-signed-reports.ts';

/** Read-after-webhook is not promised (avara-api.md §10): a report not yet signed is retried. */
export function ensureReportSigned(reports: Report[], reportId: string): void {
  const report = reports.find((r) => r.reportId === reportId);
  if (!report) throw SyncError.retryable('avara_not_found', `report ${reportId} is not (yet) in its study's report list`);
  if (!isSigned(report)) throw SyncError.retryable('report_not_signed', `report ${reportId} is ${report.status}, not signed yet`);
}

