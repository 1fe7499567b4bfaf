import type { z } from 'zod';
import { SyncError } from '../errors.ts';
import { downloadPdf, type PdfDownloadSettings } from './download-pdf.ts';
import { requestAvaraJson, type AvaraHttpSettings } from './request-avara-json.ts';
import {
  ReportListSchema, ReportPdfItemSchema, ReportTextItemSchema, StudyPageSchema, StudySchema, UserSchema,
  type ReportList, type ReportPdfItem, type ReportTextItem, type Study, type User,
} from './schemas.ts';
import { iterateStudyPages } from './iterate-study-pages.ts';
import { studyListQuery, type StudyFilter, type StudyPageRequest } from './study-filter.ts';
import { studyWriteCalls, type StudyWriteCalls } from './study-write-calls.ts';
import type { ObserveAttempt, RetrySettings } from '../upstream/request-with-retries.ts';

export interface AvaraClientConfig {
  baseUrl: string;
  apiKey: string;
  pdfAllowedHosts: readonly string[];
  pdfMaxBytes?: number;      // default 20 MiB
  timeoutMs?: number;        // per attempt, default 60 000 (the SDKs' default)
  maxRetries?: number;       // in-process retries, default 2 (3 attempts)
  maxRetryAfterMs?: number;  // a longer Retry-After goes back to the job queue; default 30 000
  observe?: ObserveAttempt;  // every attempt of every call, e.g. for metrics
}

export type StudyPage = z.output<typeof StudyPageSchema>;

export interface AvaraClient extends StudyWriteCalls {
  getStudy(studyId: string): Promise<Study>;
  getStudyByUid(studyInstanceUid: string): Promise<Study>;
  listReports(studyId: string): Promise<ReportList>;
  getReportText(reportId: string): Promise<ReportTextItem>;
  getReportPdfUrl(reportId: string): Promise<ReportPdfItem>;
  getUser(userId: string): Promise<User>;
  listStudiesPage(filter: StudyFilter, page?: StudyPageRequest): Promise<StudyPage>;
  iterateStudies(filter: StudyFilter, options?: { limit?: number }): AsyncGenerator<Study, void, undefined>;
  downloadPdf(url: string): Promise<Uint8Array>;
}

export function createAvaraClient(config: AvaraClientConfig): AvaraClient {
  const retry: RetrySettings = {
    timeoutMs: config.timeoutMs ?? 60_000,
    maxRetries: config.maxRetries ?? 2,
    maxRetryAfterMs: config.maxRetryAfterMs ?? 30_000,
    observe: config.observe,
  };
  const http: AvaraHttpSettings = { ...retry, baseUrl: config.baseUrl, apiKey: config.apiKey };
  const pdf: PdfDownloadSettings = { ...retry, pdfAllowedHosts: config.pdfAllowedHosts, pdfMaxBytes: config.pdfMaxBytes ?? 20 * 1024 * 1024 };
  // `operation` is the method's name: dashboards and alerts group upstream calls by it.
  const get = <S extends z.ZodType>(operation: keyof AvaraClient, endpoint: string, path: string, schema: S, query?: URLSearchParams, check?: (answer: z.output<S>) => void) =>
    requestAvaraJson(http, { operation, endpoint: `GET ${endpoint}`, path, query }, schema, check);
  const reportItem = <S extends z.ZodType<{ reportId: string }>>(operation: keyof AvaraClient, endpoint: string, schema: S, reportId: string) =>
    get(operation, endpoint, endpoint, schema, new URLSearchParams({ reportId }), (item) => expectReport(reportId, endpoint, item));

  const listStudiesPage = (filter: StudyFilter, page: StudyPageRequest = {}) =>
    get('listStudiesPage', '/v1/autoScribe/studies', '/v1/autoScribe/studies', StudyPageSchema, studyListQuery(filter, page));

  return {
    getStudy: (studyId) =>
      get('getStudy', '/v1/autoScribe/studies/{studyId}', `/v1/autoScribe/studies/${encodeURIComponent(studyId)}`, StudySchema),
    getStudyByUid: (uid) =>
      get('getStudyByUid', '/v1/autoScribe/studies/by-uid/{studyInstanceUid}', `/v1/autoScribe/studies/by-uid/${encodeURIComponent(uid)}`, StudySchema),
    listReports: (studyId) =>
      get('listReports', '/v1/autoScribe/reports', '/v1/autoScribe/reports', ReportListSchema, new URLSearchParams({ studyId })),
    getReportText: (reportId) => reportItem('getReportText', '/v1/autoScribe/reports/text', ReportTextItemSchema, reportId),
    getReportPdfUrl: (reportId) => reportItem('getReportPdfUrl', '/v1/autoScribe/reports/pdf', ReportPdfItemSchema, reportId),
    getUser: (userId) =>
      get('getUser', '/v1/autoScribe/users/{userId}', `/v1/autoScribe/users/${encodeURIComponent(userId)}`, UserSchema),
    listStudiesPage,
    iterateStudies: (filter, options = {}) => iterateStudyPages(listStudiesPage, filter, options.limit ?? 100),
    downloadPdf: (url) => downloadPdf(url, pdf),
    ...studyWriteCalls(http),
  };
}

/** A single-form answer for another report would attach the wrong document to a patient. */
function expectReport(reportId: string, endpoint: string, item: { reportId: string }): void {
  if (item.reportId !== reportId) {
    throw SyncError.permanent('avara_bad_response', `Avara GET ${endpoint} answered for a different report`);
  }
}
