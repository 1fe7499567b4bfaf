import { createHash } from 'node:crypto';
import type { Attachment } from '@medplum/fhirtypes';

export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';
export const PDF_CONTENT_TYPE = 'application/pdf';

/** Bytes as an inline attachment carries them: base64 `data`, SHA-1 `hash` (base64, as FHIR defines it), `size` in bytes. */
export interface EncodedBytes {
  data: string;
  size: number;
  hash: string;
}

/**
 * Encodes once what several attachments may carry: base64 of a 200 KB PDF costs about a
 * millisecond in Node 20, and a delivery bundle carries its latest PDF twice.
 */
export function encodeBytes(bytes: Uint8Array): EncodedBytes {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { data: buffer.toString('base64'), size: buffer.byteLength, hash: createHash('sha1').update(buffer).digest('base64') };
}

/** Inline attachment with `data`, `hash` and `size`. */
export function inlineAttachment(
  contentType: string,
  bytes: Uint8Array | EncodedBytes,
  fields: { title: string; creation?: string },
): Attachment {
  const { data, size, hash } = bytes instanceof Uint8Array ? encodeBytes(bytes) : bytes;
  return {
    contentType,
    data,
    size,
    hash,
    title: fields.title,
    ...(fields.creation ? { creation: fields.creation } : {}),
  };
}

export function textAttachment(text: string, fields: { title: string; creation?: string }): Attachment {
  return inlineAttachment(TEXT_CONTENT_TYPE, Buffer.from(text, 'utf8'), fields);
}

export function pdfAttachment(pdf: Uint8Array | EncodedBytes, fields: { title: string; creation?: string }): Attachment {
  return inlineAttachment(PDF_CONTENT_TYPE, pdf, fields);
}
