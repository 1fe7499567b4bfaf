import { Router, type Response } from 'express';
import { addRoute, queryParam } from './add-route.ts';
import { reportPdfBytes } from './report-pdf-bytes.ts';
import { nowSeconds, type SandboxContext } from './sandbox-context.ts';

/**
 * The object store behind presigned links: no Avara key (the link carries its own authorisation),
 * and errors in the XML shape S3 uses, because that is what a client really meets.
 */
export function fileRoutes(ctx: SandboxContext): Router {
  const router = Router();
  addRoute(router, ctx.faults, 'get', '/_files/{name}', (req, res) => {
    const name = String(req.params['name']);
    // S3 refuses a presigned request that also carries an Authorization header.
    if (req.headers.authorization) return void sendXmlError(res, 400, 'InvalidArgument', 'Only one auth mechanism allowed');
    const verdict = ctx.presigner.check(name, queryParam(req, 'expires'), queryParam(req, 'sig'), nowSeconds(ctx));
    if (verdict === 'expired') return void sendXmlError(res, 403, 'AccessDenied', 'Request has expired');
    if (verdict !== 'ok') return void sendXmlError(res, 403, 'SignatureDoesNotMatch', 'The request signature does not match');
    const stored = ctx.state.reports.get(name.replace(/\.pdf$/, ''));
    if (!stored || stored.report.status !== 'completed') return void sendXmlError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    if (ctx.pdf.servesHtml) {
      return void res.status(200).type('text/html').send('<!DOCTYPE html><html><body><h1>Sign in to continue</h1></body></html>');
    }
    sendPdf(res, reportPdfBytes(stored, { realisticSize: ctx.pdf.realisticSizes }), ctx.pdf.omitContentLength);
  });
  return router;
}

function sendPdf(res: Response, bytes: Uint8Array, chunked: boolean): void {
  res.status(200).type('application/pdf');
  if (!chunked) return void res.send(Buffer.from(bytes));
  const chunkBytes = 1024;
  for (let offset = 0; offset < bytes.length; offset += chunkBytes) res.write(bytes.subarray(offset, offset + chunkBytes));
  res.end();
}

function sendXmlError(res: Response, status: number, code: string, message: string): void {
  res.status(status).type('application/xml')
    .send(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}
