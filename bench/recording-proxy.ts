import { createServer, request, type IncomingHttpHeaders } from 'node:http';

/** One request as the product sent it, replayable byte for byte. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/fhir/R4/Patient?identifier=...`. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface RecordingProxy {
  url: string;
  /** Requests in the order they arrived, while `recording` is true. */
  recorded: RecordedRequest[];
  recording: boolean;
  stop(): Promise<void>;
}

// Hop-by-hop and per-connection headers: the replay's own client sets them.
const NOT_REPLAYED = new Set(['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

/**
 * A pass-through HTTP proxy in front of `targetOrigin` (the FHIR store) that keeps every request
 * serve sends through it: the exact sequence a delivery asks of the EHR, to replay without serve.
 */
export function startRecordingProxy(targetOrigin: string): Promise<RecordingProxy> {
  const target = new URL(targetOrigin);
  const proxy: RecordingProxy = { url: '', recorded: [], recording: false, stop: () => Promise.resolve() };
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      if (proxy.recording) proxy.recorded.push({ method: incoming.method ?? 'GET', path: incoming.url ?? '/', headers: replayedHeaders(incoming.headers), body });
      const forward = request(
        { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: target.host } },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forward.on('error', () => outgoing.destroy());
      forward.end(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      proxy.url = `http://127.0.0.1:${port}`;
      proxy.stop = () => new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      });
      resolve(proxy);
    });
  });
}

function replayedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NOT_REPLAYED.has(name)) continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}
