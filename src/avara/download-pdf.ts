import { SyncError } from '../errors.ts';
import { requestWithRetries, type Attempt, type RetrySettings } from '../upstream/request-with-retries.ts';
import { sendAttempt, type AnswerClassifier } from '../upstream/send-attempt.ts';
import { checkPdfUrl } from './check-pdf-url.ts';
import { describeNetworkFailure } from '../upstream/network-failure.ts';
import type { UpstreamResponse } from '../upstream/upstream-response.ts';

export interface PdfDownloadSettings extends RetrySettings {
  pdfAllowedHosts: readonly string[];
  pdfMaxBytes: number;
}

const PDF_MAGIC = '%PDF-';

/**
 * Fetches a presigned PDF link (avara-api.md §6.6): a plain GET without the Avara key. Messages
 * name the link's host only: the query string is a bearer token.
 */
export function downloadPdf(rawUrl: string, settings: PdfDownloadSettings): Promise<Uint8Array> {
  return requestWithRetries(settings, {
    operation: 'downloadPdf',
    // Checked in the attempt, so a refused link is observed like any other failed call.
    attempt: (attempt) => downloadOnce(checkPdfUrl(rawUrl, settings.pdfAllowedHosts), attempt, settings.pdfMaxBytes),
    // Reached only after checkPdfUrl accepted the link, so it parses.
    failureWithoutAnswer: (error) => storageUnreachable(new URL(rawUrl).hostname, error),
  });
}

async function downloadOnce(url: URL, attempt: Attempt, maxBytes: number): Promise<Uint8Array> {
  // Redirects are not followed: their target would escape the host allow-list.
  const response = await sendAttempt(url, { redirect: 'manual' }, attempt, storageAnswers(url.hostname));
  return checkIsPdf(url.hostname, await readCapped(url.hostname, response, maxBytes));
}

function storageAnswers(host: string): AnswerClassifier {
  return {
    failureFromStatus: (response) => failureFromStatus(host, response.status),
    failureFromNetwork: (error) => storageUnreachable(host, error),
    // Its failures carry no retryAfterMs, so a storage Retry-After is not honoured: the loop backs off.
    retriesInCall: (response) => storageBusy(response.status),
    accepts: (status) => status === 200,
  };
}

function storageUnreachable(host: string, cause: unknown): SyncError {
  // The code and where it connected (`ECONNREFUSED 10.1.2.3:443`); the link's query is a bearer token, never shown.
  return SyncError.retryable('pdf_unavailable', `PDF download from ${host} failed without an answer (${describeNetworkFailure(cause).text})`, { cause });
}

const storageBusy = (status: number) => status >= 500 || status === 408 || status === 429;

function failureFromStatus(host: string, status: number): SyncError {
  const message = `PDF storage ${host} answered ${status}`;
  // Storage says 403 (S3: expired or bad signature) or 400 for a lapsed link; a fresh link helps.
  if (status === 403 || status === 400) return SyncError.retryable('pdf_link_expired', `${message}; fetch a fresh link`);
  if (storageBusy(status)) return SyncError.retryable('pdf_unavailable', message);
  if (status >= 300 && status < 400) return SyncError.retryable('pdf_invalid', `${message} (redirects are not followed)`);
  return SyncError.retryable('pdf_invalid', message);
}

async function readCapped(host: string, response: UpstreamResponse, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => SyncError.permanent('pdf_too_large', `PDF from ${host} is larger than ${maxBytes} bytes`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Counted while streaming: Content-Length may be absent or wrong.
  for await (const chunk of response.body ?? []) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function checkIsPdf(host: string, bytes: Uint8Array): Uint8Array {
  if (Buffer.from(bytes.subarray(0, PDF_MAGIC.length)).toString('latin1') !== PDF_MAGIC) {
    throw SyncError.retryable('pdf_invalid', `download from ${host} is not a PDF`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
