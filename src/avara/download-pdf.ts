import { SyncError } from '../errors.ts';
import { checkPdfUrl } from './check-pdf-url.ts';
import { backoffMs } from './in-call-backoff.ts';
import { RetryableAttempt, withShortRetries } from './with-short-retries.ts';

export interface PdfDownloadSettings {
  pdfAllowedHosts: readonly string[];
  pdfMaxBytes: number;
  timeoutMs: number;
  maxRetries: number;
}

const PDF_MAGIC = '%PDF-';

/**
 * Fetches a presigned PDF link (avara-api.md §6.6): a plain GET without the Avara key. Messages
 * name the link's host only: the query string is a bearer token.
 */
export async function downloadPdf(rawUrl: string, settings: PdfDownloadSettings): Promise<Uint8Array> {
  const url = checkPdfUrl(rawUrl, settings.pdfAllowedHosts);
  return withShortRetries(async (retryIndex) => {
    let response: Response;
    try {
      // Redirects are not followed: their target would escape the host allow-list.
      response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(settings.timeoutMs) });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw failureFromStatus(url.hostname, response.status);
      }
      return checkIsPdf(url.hostname, await readCapped(url.hostname, response, settings.pdfMaxBytes));
    } catch (error) {
      if (error instanceof SyncError) {
        if (error.code === 'pdf_unavailable') throw new RetryableAttempt(error, backoffMs(retryIndex));
        throw error;
      }
      const failure = SyncError.retryable('pdf_unavailable', `PDF download from ${url.hostname} failed without an answer`, { cause: error });
      throw new RetryableAttempt(failure, backoffMs(retryIndex));
    }
  }, settings.maxRetries);
}

function failureFromStatus(host: string, status: number): SyncError {
  const message = `PDF storage ${host} answered ${status}`;
  // Storage says 403 (S3: expired or bad signature) or 400 for a lapsed link; a fresh link helps.
  if (status === 403 || status === 400) return SyncError.retryable('pdf_link_expired', `${message}; fetch a fresh link`);
  if (status >= 500 || status === 408 || status === 429) return SyncError.retryable('pdf_unavailable', message);
  if (status >= 300 && status < 400) return SyncError.retryable('pdf_invalid', `${message} (redirects are not followed)`);
  return SyncError.retryable('pdf_invalid', message);
}

async function readCapped(host: string, response: Response, maxBytes: number): Promise<Uint8Array> {
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
