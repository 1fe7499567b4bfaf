import type { z } from 'zod';
import { SyncError } from '../errors.ts';
import { downloadPdf } from './download-pdf.ts';
import { requestAvaraJson, type AvaraHttpSettings } from './request-avara-json.ts';
import {
  ReportListSchema, ReportPdfItemSchema, ReportTextItemSchema, StudyPageSchema, StudySchema, UserSchema,
  type ReportList, type ReportPdfItem, type ReportTextItem, type Study, type User,
} from './schemas.ts';
import { iterateStudyPages } from './iterate-study-pages.ts';
import { studyListQuery, type StudyFilter, type StudyPageRequest } from './study-filter.ts';
import { studyWriteCalls, type StudyWriteCalls } from './study-write-calls.ts';

export interface AvaraClientConfig {
  baseUrl: string;
  apiKey: string;
  pdfAllowedHosts: readonly string[];
  pdfMaxBytes?: number;      // default 20 MiB
  timeoutMs?: number;        // per attempt, default 60 000 (the SDKs' default)
  maxRetries?: number;       // in-process retries, default 2 (3 attempts)
  maxRetryAfterMs?: number;  // a longer Retry-After goes back to the job queue; default 30 000
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
  const http: AvaraHttpSettings = {
    baseUrl: config.baseUrl,
    apiKey: config.apiKey,
    timeoutMs: config.timeoutMs ?? 60_000,
    maxRetries: config.maxRetries ?? 2,
    maxRetryAfterMs: config.maxRetryAfterMs ?? 30_000,
  };
  const pdf = {
    pdfAllowedHosts: config.pdfAllowedHosts,
    pdfMaxBytes: config.pdfMaxBytes ?? 20 * 1024 * 1024,
    timeoutMs: http.timeoutMs,
    maxRetries: http.maxRetries,
  };
  const get = <S extends z.ZodType>(endpoint: string, path: string, schema: S, query?: URLSearchParams) =>
    requestAvaraJson(http, { endpoint: `GET ${endpoint}`, path, query }, schema);
  const byReportId = (reportId: string) => new URLSearchParams({ reportId });

  const listStudiesPage = (filter: StudyFilter, page: StudyPageRequest = {}) =>
    get('/v1/autoScribe/studies', '/v1/autoScribe/studies', StudyPageSchema, studyListQuery(filter, page));

  return {
    getStudy: (studyId) =>
      get('/v1/autoScribe/studies/{studyId}', `/v1/autoScribe/studies/${encodeURIComponent(studyId)}`, StudySchema),
    getStudyByUid: (uid) =>
      get('/v1/autoScribe/studies/by-uid/{studyInstanceUid}', `/v1/autoScribe/studies/by-uid/${encodeURIComponent(uid)}`, StudySchema),
    listReports: (studyId) =>
      get('/v1/autoScribe/reports', '/v1/autoScribe/reports', ReportListSchema, new URLSearchParams({ studyId })),
    getReportText: async (reportId) => expectReport(reportId, '/v1/autoScribe/reports/text',
      await get('/v1/autoScribe/reports/text', '/v1/autoScribe/reports/text', ReportTextItemSchema, byReportId(reportId))),
    getReportPdfUrl: async (reportId) => expectReport(reportId, '/v1/autoScribe/reports/pdf',
      await get('/v1/autoScribe/reports/pdf', '/v1/autoScribe/reports/pdf', ReportPdfItemSchema, byReportId(reportId))),
    getUser: (userId) =>
      get('/v1/autoScribe/users/{userId}', `/v1/autoScribe/users/${encodeURIComponent(userId)}`, UserSchema),
    listStudiesPage,
    iterateStudies: (filter, options = {}) => iterateStudyPages(listStudiesPage, filter, options.limit ?? 100),
    downloadPdf: (url) => downloadPdf(url, pdf),
    ...studyWriteCalls(http),
  };
}

/** A single-form answer for another report would attach the wrong document to a patient. */
function expectReport<T extends { reportId: string }>(reportId: string, endpoint: string, item: T): T {
  if (item.reportId !== reportId) {
    throw SyncError.permanent('avara_bad_response', `Avara GET ${endpoint} answered for a different report`);
  }
  return item;
}
