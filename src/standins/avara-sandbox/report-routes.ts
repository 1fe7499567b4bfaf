import { Router, type Request, type Response } from 'express';
import { requireApiKey } from './require-api-key.ts';
import { addRoute, queryParam } from './add-route.ts';
import { SandboxConflict } from './sandbox-state.ts';
import { nowSeconds, pdfBaseUrl, type SandboxContext } from './sandbox-context.ts';
import type { SandboxReport, SandboxStudy } from './sandbox-types.ts';

type Selection = { report: SandboxReport } | { study: SandboxStudy } | { status: number; message: string };

/** §6.4-6.6 (reads) and §9.3 (addendum open/cancel). */
export function reportRoutes(ctx: SandboxContext): Router {
  const router = Router();
  const auth = requireApiKey(ctx.apiKey);
  addRoute(router, ctx.faults, 'get', '/v1/autoScribe/reports', auth, (req, res) => {
    const selected = select(ctx, req, false);
    if (!('study' in selected)) return void sendSelectionError(res, selected);
    const reports = ctx.state.reportsOf(selected.study).map(({ report, plainText }) =>
      (plainText === undefined ? report : { ...report, reportPlainText: plainText }));
    res.json({ studyId: selected.study.studyId, studyInstanceUid: selected.study.studyInstanceUid, reports });
  });
  addRoute(router, ctx.faults, 'get', '/v1/autoScribe/reports/text', auth, (req, res) => {
    sendItems(ctx, req, res, (stored) => ({ ...reportItem(stored), ...(stored.plainText === undefined ? {} : { plainText: stored.plainText }) }));
  });
  addRoute(router, ctx.faults, 'get', '/v1/autoScribe/reports/pdf', auth, (req, res) => {
    const ttl = ctx.pdf.linkTtlSeconds;
    sendItems(ctx, req, res, (stored) => (stored.report.status !== 'completed' ? undefined : {
      ...reportItem(stored),
      presignedUrl: ctx.presigner.issue(pdfBaseUrl(ctx), stored.report.reportId, nowSeconds(ctx), ttl),
    }));
  });
  addRoute(router, ctx.faults, 'post', '/v1/autoScribe/reports/{reportId}/addendum', auth, (req, res) => {
    changeAddendum(ctx, req, res, (study) => void ctx.state.openAddendum(study));
  });
  addRoute(router, ctx.faults, 'post', '/v1/autoScribe/reports/{reportId}/cancel-addendum', auth, (req, res) => {
    changeAddendum(ctx, req, res, (study) => {
      if (!ctx.state.cancelAddendum(study)) throw new SandboxConflict('no addendum in progress');
    });
  });
  return router;
}

function reportItem({ report, studyInstanceUid }: SandboxReport) {
  const { reportId, studyId, isCritical, snapshotMetadata } = report;
  return { reportId, studyId, studyInstanceUid, isCritical, snapshotMetadata };
}

/** Single form for `reportId`, list form for a study selector (§6.7). `toItem` may skip a report. */
function sendItems(ctx: SandboxContext, req: Request, res: Response, toItem: (r: SandboxReport) => object | undefined): void {
  const selected = select(ctx, req, true);
  if ('report' in selected) {
    const item = toItem(selected.report);
    if (!item) return void res.status(404).json({ message: 'Report is not signed yet' });
    return void res.json(item);
  }
  if (!('study' in selected)) return void sendSelectionError(res, selected);
  const reports = ctx.state.reportsOf(selected.study).map(toItem).filter((item) => item !== undefined);
  res.json({ studyId: selected.study.studyId, studyInstanceUid: selected.study.studyInstanceUid, reports });
}

function select(ctx: SandboxContext, req: Request, allowReportId: boolean): Selection {
  const reportId = allowReportId ? queryParam(req, 'reportId') : null;
  const studyId = queryParam(req, 'studyId');
  const uid = queryParam(req, 'studyInstanceUid');
  const given = [reportId, studyId, uid].filter((value) => value);
  if (given.length !== 1) return { status: 400, message: 'Send exactly one of reportId, studyId or studyInstanceUid' };
  if (reportId) {
    const report = ctx.state.reports.get(reportId);
    return report ? { report } : { status: 404, message: 'Report not found' };
  }
  const study = studyId
    ? ctx.state.studies.get(studyId)
    : [...ctx.state.studies.values()].find((s) => s.studyInstanceUid === uid);
  return study ? { study } : { status: 404, message: 'Study not found' };
}

function sendSelectionError(res: Response, selected: Selection): void {
  const { status, message } = selected as { status: number; message: string };
  res.status(status).json({ message });
}

function changeAddendum(ctx: SandboxContext, req: Request, res: Response, change: (study: SandboxStudy) => void): void {
  const stored = ctx.state.reports.get(String(req.params['reportId']));
  const study = stored && ctx.state.studies.get(stored.report.studyId);
  if (!study) return void res.status(404).json({ message: 'Report not found' });
  try {
    change(study);
    res.json({ success: true });
  } catch (error) {
    if (!(error instanceof SandboxConflict)) throw error;
    res.status(400).json({ success: false, message: error.message });
  }
}
