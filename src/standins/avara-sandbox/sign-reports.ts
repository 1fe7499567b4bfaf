import type { SeededRandom } from './seeded-random.ts';
import type { WebhookSender } from './webhook-sender.ts';
import { nowSeconds, pdfBaseUrl, type SandboxContext } from './sandbox-context.ts';
import type { SandboxReport, SandboxStudy, SignedRef } from './sandbox-types.ts';

export interface SignOptions {
  addendum?: boolean;       // sign addenda on existing completed studies instead of new studies
  critical?: boolean;
  sendWebhooks?: boolean;   // default true
  studyIds?: string[];      // which studies get the addenda (default: the most recent ones)
}

/** Signs off `count` reports, then attempts their `report.delivered` webhooks (§7.3.1). */
export async function signReports(
  ctx: SandboxContext, sender: WebhookSender, random: SeededRandom, count: number, options: SignOptions = {},
): Promise<SignedRef[]> {
  const signed = options.addendum
    ? addendumTargets(ctx, count, options.studyIds).map((study) => ctx.state.signAddendum(study, options.critical))
    : Array.from({ length: count }, () => ctx.state.addSignedStudy(ctx.now(), options.critical));
  const refs = signed.map((stored): SignedRef => ({
    studyId: stored.report.studyId,
    reportId: stored.report.reportId,
    webhookId: `msg_${random.hex(32)}`,
    isAddendum: stored.report.isAddendum,
  }));
  if (options.sendWebhooks !== false) {
    const bodies = signed.map((stored) => reportDeliveredBody(ctx, random, stored));
    await Promise.all(refs.map((ref, index) => sender.send(ref.webhookId, bodies[index]!)));
  }
  return refs;
}

function addendumTargets(ctx: SandboxContext, count: number, studyIds: string[] | undefined): SandboxStudy[] {
  const eligible = (study: SandboxStudy | undefined): study is SandboxStudy =>
    !!study && !study.isCancelled && ['completed', 'addendum_active'].includes(study.studyReportStatus);
  const candidates = studyIds
    ? studyIds.map((id) => ctx.state.studies.get(id))
    : [...ctx.state.studies.values()].reverse();
  const targets = candidates.filter(eligible).slice(0, count);
  if (targets.length < count) throw new RangeError(`only ${targets.length} studies can take an addendum`);
  return targets;
}

/** Sends the `report.delivered` webhook of one signed report (auto-sign of a created study). */
export async function sendReportDelivered(
  ctx: SandboxContext, sender: WebhookSender, random: SeededRandom, stored: SandboxReport,
): Promise<SignedRef> {
  const ref: SignedRef = { studyId: stored.report.studyId, reportId: stored.report.reportId, webhookId: `msg_${random.hex(32)}`, isAddendum: false };
  await sender.send(ref.webhookId, reportDeliveredBody(ctx, random, stored));
  return ref;
}

function reportDeliveredBody(ctx: SandboxContext, random: SeededRandom, stored: SandboxReport): string {
  const { report } = stored;
  return JSON.stringify({
    id: `whe_${random.hex(32)}`,
    type: 'report.delivered',
    data: {
      studyId: report.studyId,
      reportId: report.reportId,
      isCritical: report.isCritical ?? false,
      presignedUrl: ctx.presigner.issue(pdfBaseUrl(ctx), report.reportId, nowSeconds(ctx), ctx.pdf.linkTtlSeconds),
      ...(stored.plainText === undefined ? {} : { plainText: stored.plainText }),
    },
  });
}
