import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/standins/avara-sandbox/start-sandbox.ts';

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

/** A sandbox whose webhooks go to a fresh receiver; `stop()` stops both. */
export async function startSandboxWithReceiver(options: SandboxOptions): Promise<{ sandbox: Sandbox; receiver: WebhookReceiver; stop(): Promise<void> }> {
  const receiver = await startWebhookReceiver();
  const sandbox = await startSandbox({ ...options, webhookUrl: receiver.url });
  return {
    sandbox, receiver,
    async stop() {
      await sandbox.stop();
      await receiver.stop();
    },
  };
}
