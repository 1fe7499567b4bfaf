import type { Store } from '../store/store.ts';
import type { PdfLinkHint } from './gather-signed-reports.ts';

// A presigned link lives one hour (avara-api.md §6.6); leave a margin for queueing and download.
const WEBHOOK_LINK_MAX_AGE_MS = 50 * 60_000;

/** The PDF link report.delivered brought, while it is fresh: it saves a call to Avara. */
export async function webhookLinkFor(store: Store, reportId: string, now: number): Promise<PdfLinkHint | undefined> {
  const link = await store.intake.findPdfLink(reportId);
  return link && now - link.receivedAt < WEBHOOK_LINK_MAX_AGE_MS ? { reportId, url: link.url } : undefined;
}
