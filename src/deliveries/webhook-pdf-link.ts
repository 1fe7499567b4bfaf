import { findWebhookPdfLink } from '../store/inbox.ts';
import type { Db } from '../store/open-store.ts';
import type { PdfLinkHint } from './gather-signed-reports.ts';

// A presigned link lives one hour (avara-api.md §6.6); leave a margin for queueing and download.
const WEBHOOK_LINK_MAX_AGE_MS = 50 * 60_000;

/** The PDF link report.delivered brought, while it is fresh: it saves a call to Avara. */
export function webhookLinkFor(db: Db, reportId: string, now: number): PdfLinkHint | undefined {
  const link = findWebhookPdfLink(db, reportId);
  return link && now - link.receivedAt < WEBHOOK_LINK_MAX_AGE_MS ? { reportId, url: link.url } : undefined;
}
