import type { AvaraClient } from '../avara/avara-client.ts';

/** What the delivery pipeline reads from Avara. */
export type AvaraReader = Pick<AvaraClient, 'getStudy' | 'listReports' | 'getReportText' | 'getReportPdfUrl' | 'getUser' | 'downloadPdf'>;
