import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadPdf } from '../src/avara/download-pdf.ts';

// A PDF read in one piece when its Content-Length frames it, streamed and counted otherwise: the
// size cap must hold on both paths, and on what fetch inflates from a gzip body.
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(50_000, 0x41)]);
let server: Server | undefined;

afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

function serve(headers: Record<string, string | number>, body: Buffer): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/pdf', ...headers });
    res.end(body);
  });
  return new Promise((resolve) => server!.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server!.address() as { port: number }).port}/pdf?sig=x`)));
}

const settings = (pdfMaxBytes: number) => ({ pdfAllowedHosts: ['127.0.0.1'], pdfMaxBytes, timeoutMs: 5_000, maxRetries: 0, maxRetryAfterMs: 0 });

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('PDF download and its size cap', () => {
  it('returns the exact bytes of a PDF with Content-Length, read in one piece', async () => {
    const url = await serve({ 'content-length': PDF.length }, PDF);
    expect(Buffer.from(await downloadPdf(url, settings(100_000))).equals(PDF)).toBe(true);
  });

  it('returns the exact bytes of a chunked PDF, streamed', async () => {
    const url = await serve({}, PDF);
    expect(Buffer.from(await downloadPdf(url, settings(100_000))).equals(PDF)).toBe(true);
  });

  it('refuses a gzip body whose Content-Length is under the cap but whose inflated PDF is over it', async () => {
    const compressed = gzipSync(PDF);
    expect(compressed.length).toBeLessThan(10_000);
    const url = await serve({ 'content-encoding': 'gzip', 'content-length': compressed.length }, compressed);
    expect(await failureOf(downloadPdf(url, settings(10_000)))).toMatchObject({ code: 'pdf_too_large', retryable: false });
  });
});
