import type { ReportList, ReportPdfItem, ReportTextItem, Study, User } from '../avara/schemas.ts';

/** What the delivery pipeline reads from Avara; the Avara client satisfies it. */
export interface AvaraReader {
  getStudy(studyId: string): Promise<Study>;
  listReports(studyId: string): Promise<ReportList>;
  getReportText(reportId: string): Promise<ReportTextItem>;
  getReportPdfUrl(reportId: string): Promise<ReportPdfItem>;
  getUser(userId: string): Promise<User>;
  downloadPdf(url: string): Promise<Uint8Array>;
}
