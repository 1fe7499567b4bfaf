import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

export interface ReceivedWebhook {
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Status codes for the next answers, in order; afterwards 200. */
  answerNext(...statuses: number[]): void;
  stop(): Promise<void>;
}

/** A tiny endpoint that records the raw bodies and headers Avara's sandbox sends it. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const queued: number[] = [];
  const app = express();
  app.post('/webhooks/avara', express.text({ type: '*/*' }), (req, res) => {
    received.push({ headers: { ...req.headers }, rawBody: String(req.body) });
    const status = queued.shift() ?? 200;
    res.status(status).json({ success: status < 300 });
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/avara`,
    received,
    answerNext: (...statuses) => void queued.push(...statuses),
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
