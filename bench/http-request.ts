import { Agent, request } from 'node:http';

export interface HttpAnswer {
  status: number;
  body: Buffer;
}

/** A keep-alive agent holding at most `sockets` connections (one per load-generator lane). */
export function keepAliveAgent(sockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

/** One HTTP/1.1 request on `agent`, the whole answer read. */
export function httpRequest(agent: Agent, url: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
