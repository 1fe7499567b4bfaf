import { createHash } from 'node:crypto';
import type { Attachment } from '@medplum/fhirtypes';

export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';
export const PDF_CONTENT_TYPE = 'application/pdf';

/** Inline attachment with `data`, SHA-1 `hash` (base64, as FHIR defines it) and `size` in bytes. */
export function inlineAttachment(
  contentType: string,
  bytes: Uint8Array,
  fields: { title: string; creation?: string },
): Attachment {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    contentType,
    data: buffer.toString('base64'),
    size: buffer.byteLength,
    hash: createHash('sha1').update(buffer).digest('base64'),
    title: fields.title,
    ...(fields.creation ? { creation: fields.creation } : {}),
  };
}

export function textAttachment(text: string, fields: { title: string; creation?: string }): Attachment {
  return inlineAttachment(TEXT_CONTENT_TYPE, Buffer.from(text, 'utf8'), fields);
}

export function pdfAttachment(pdf: Uint8Array, fields: { title: string; creation?: string }): Attachment {
  return inlineAttachment(PDF_CONTENT_TYPE, pdf, fields);
}
