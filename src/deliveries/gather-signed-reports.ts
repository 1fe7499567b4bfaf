import type { Report, Study, User } from '../avara/schemas.ts';
import type { SignedReport } from './mapping/delivery-input.ts';
import { SyncError } from '../errors.ts';
import type { AvaraReader } from './avara-reader.ts';

export interface PdfLinkHint {
  reportId: string;
  url: string;
}

export interface GatherResult {
  reports: SignedReport[];
  textMissingFor: string[];
  usedWebhookLink: boolean;
}

/**
 * Fetches text, PDF and signer of every signed report of the study: a delivery syncs the
 * study's whole current state (fhir-mapping.md "State, not events").
 */
export async function gatherSignedReports(
  avara: AvaraReader,
  study: Study,
  signed: Report[],
  webhookLink: PdfLinkHint | undefined,
  userCache: Map<string, User>,
): Promise<GatherResult> {
  let usedWebhookLink = false;
  const textMissingFor: string[] = [];
  const reports = await Promise.all(
    signed.map(async (report): Promise<SignedReport> => {
      const hint = webhookLink?.reportId === report.reportId ? webhookLink.url : undefined;
      const [text, pdf, signer] = await Promise.all([
        avara.getReportText(report.reportId),
        downloadReportPdf(avara, report.reportId, hint),
        findSigner(avara, study, report.userId, userCache),
      ]);
      if (hint && pdf.viaHint) usedWebhookLink = true;
      const plainText = text.plainText ?? report.reportPlainText;
      if (plainText === undefined) textMissingFor.push(report.reportId);
      return { report, plainText, pdf: pdf.bytes, signer };
    }),
  );
  return { reports, textMissingFor, usedWebhookLink };
}

/** The webhook's link saves a call while fresh; an expired or refused one falls back to a new link. */
async function downloadReportPdf(avara: AvaraReader, reportId: string, hint: string | undefined): Promise<{ bytes: Uint8Array; viaHint: boolean }> {
  if (hint) {
    try {
      return { bytes: await avara.downloadPdf(hint), viaHint: true };
    } catch (error) {
      if (!(error instanceof SyncError) || error.code !== 'pdf_link_expired') throw error;
    }
  }
  const fresh = await avara.getReportPdfUrl(reportId);
  return { bytes: await avara.downloadPdf(fresh.presignedUrl), viaHint: false };
}

// The user record is read for every signer, the study's assignee too: `assignedTo` carries no
// NPI, and a Practitioner created without it is never updated (fhir-mapping.md "Practitioner").
// The assignee's name still wins, as the spec says: it is what Avara shows on the study.
async function findSigner(avara: AvaraReader, study: Study, userId: string, cache: Map<string, User>): Promise<User> {
  let user = cache.get(userId);
  if (!user) {
    user = await avara.getUser(userId);
    cache.set(userId, user);
  }
  const assignee = study.assignedTo?.userId === userId ? study.assignedTo : undefined;
  return assignee ? { ...user, ...assignee, npiNumber: user.npiNumber } : user;
}
