import { connect, type Socket } from 'node:net';

export interface SlowRequest {
  socket: Socket;
  /** The status code of the answer, or 0 when the connection closed without one. */
  status: Promise<number>;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
  /** Raw answer bytes received so far (status line and headers included). */
  received(): string;
}

/**
 * A client that sends a request's headers and only `sendBytes` of a body announced as
 * `contentLength`, then stalls: the slow sender of issue 21, on a raw socket because fetch
 * cannot stop half-way through a body.
 */
export function startSlowRequest(baseUrl: string, path: string, headers: Record<string, string>, contentLength: number, sendBytes: number): SlowRequest {
  const url = new URL(baseUrl);
  const socket = connect(Number(url.port), url.hostname);
  let text = '';
  const lines = [`POST ${path} HTTP/1.1`, `Host: ${url.host}`, 'Content-Type: application/json', `Content-Length: ${contentLength}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (sendBytes > 0) socket.write('x'.repeat(sendBytes));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const status = new Promise<number>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    socket.once('close', () => resolve(0));
  });
  return { socket, status, closed, received: () => text };
}

/** Resolves with `promise`, or rejects naming `what` after `ms`: the "at once" of a refusal. */
export function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
