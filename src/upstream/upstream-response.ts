import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { constants, createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** What callers read of an answer's headers: `get` as `Headers.get` answers it (lower-case names, repeats joined). */
export interface AnswerHeaders {
  get(name: string): string | null;
  has(name: string): boolean;
  forEach(visit: (value: string, name: string) => void): void;
}

/** An answer's body, read once: iterated as bytes (counted while streaming) or cancelled unread. */
export interface AnswerBody extends AsyncIterable<Uint8Array> {
  cancel(): Promise<void>;
}

/**
 * The part of fetch's Response that our clients and Medplum's read, over a node:http answer. Its
 * body stays unread until asked for, so the attempt's timeout still covers reading it.
 */
export interface UpstreamResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: AnswerHeaders;
  readonly body: AnswerBody | null;
  readonly bodyUsed: boolean;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

class NodeAnswerHeaders implements AnswerHeaders {
  constructor(private readonly raw: IncomingMessage['headers']) {}
  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  }
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
  forEach(visit: (value: string, name: string) => void): void {
    for (const name of Object.keys(this.raw).sort()) visit(this.get(name)!, name);
  }
}

/**
 * A body cut off by the connection, as fetch reports it ("terminated"), the socket's error as its
 * cause: describeNetworkFailure finds the code and address there.
 */
export function bodyCutOff(cause: unknown): TypeError {
  return new TypeError('terminated', { cause });
}

/** `onSettled` runs once, when the body was read to its end, failed or was cancelled: the attempt's abort listener goes then. */
export function answerOf(res: IncomingMessage, method: string, onSettled: () => void): UpstreamResponse {
  const status = res.statusCode ?? 0;
  const empty = method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200) || res.headers['content-length'] === '0';
  const stream = empty ? undefined : decoded(res);
  let used = false;
  let settled = false;
  const settle = () => {
    if (!settled) (settled = true), onSettled();
  };
  if (!stream) {
    res.resume();
    settle();
  } else {
    stream.once('end', settle);
    stream.once('error', settle);
    stream.once('close', settle);
  }
  const take = (): Readable | undefined => {
    if (used) throw new TypeError('Body is unusable: Body has already been read');
    used = true;
    return stream;
  };
  const bytes = async (): Promise<Buffer> => {
    const source = take();
    return source ? readAll(source) : Buffer.alloc(0);
  };
  const body: AnswerBody | null = stream ? {
    [Symbol.asyncIterator]: () => iterate(take()!),
    async cancel() {
      used = true;
      stream.destroy();
      res.destroy();
      settle();
    },
  } : null;
  return {
    status,
    statusText: res.statusMessage ?? '',
    ok: status >= 200 && status < 300,
    headers: new NodeAnswerHeaders(res.headers),
    body,
    get bodyUsed() { return used; },
    text: async () => utf8WithoutBom(await bytes()),
    json: async () => JSON.parse(utf8WithoutBom(await bytes())),
    arrayBuffer: async () => {
      const all = await bytes();
      return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
    },
  };
}

// fetch inflates what it asked for (Accept-Encoding: gzip, deflate[, br]); flushing as undici
// does, so a body cut short at a block boundary reads as what arrived rather than an error.
function decoded(res: IncomingMessage): Readable {
  const coding = res.headers['content-encoding']?.trim().toLowerCase();
  const flush = { flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH };
  const inflater = coding === 'gzip' || coding === 'x-gzip' ? createGunzip(flush)
    : coding === 'deflate' ? createInflate(flush)
      : coding === 'br' ? createBrotliDecompress({ flush: constants.BROTLI_OPERATION_FLUSH, finishFlush: constants.BROTLI_OPERATION_FLUSH })
        : undefined;
  if (!inflater) return res;
  res.on('error', (error) => inflater.destroy(error));
  // Cancelling the inflated body must free the socket too.
  inflater.on('close', () => res.destroy());
  return res.pipe(inflater);
}

function readAll(source: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    source.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
    });
    source.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)));
    source.once('error', (error) => reject(asBodyError(error)));
  });
}

async function* iterate(source: Readable): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of source) yield chunk as Buffer;
  } catch (error) {
    throw asBodyError(error);
  } finally {
    // A caller that stops early (a size cap) leaves nothing half-read on the socket.
    if (!source.readableEnded) source.destroy();
  }
}

// The attempt's own timeout stays itself (a TimeoutError); a socket's trouble reads as fetch's "terminated".
function asBodyError(error: unknown): unknown {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError' || error.message === 'terminated') ? error : bodyCutOff(error);
}

function utf8WithoutBom(bytes: Buffer): string {
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return bytes.toString('utf8', start);
}
