import { Webhook } from 'standardwebhooks';

// Like a real sender: a few quick attempts per delivery, each with its own timeout.
const ATTEMPTS = 3;
const BACKOFF_MS = [100, 300];
const TIMEOUT_MS = 5000;

export interface WebhookOutcome {
  webhookId: string;
  attempts: number;
  lastStatus: number | null;    // null: no HTTP answer (or nothing sent)
  delivered: boolean;
  dropped: boolean;
}

export interface WebhookSender {
  /** First delivery; may be dropped on purpose by the drop switch. */
  send(webhookId: string, body: string): Promise<WebhookOutcome>;
  /** A redelivery: same webhook-id and body, fresh timestamp and signature; never dropped. */
  resend(webhookId: string): Promise<WebhookOutcome>;
  setDropRatio(ratio: number): void;
  setUrl(url: string | null): void;
  outcomes(): WebhookOutcome[];
}

export function createWebhookSender(options: {
  url: string | null; webhookKey: string; now: () => Date; random: () => number;
}): WebhookSender {
  const signer = new Webhook(options.webhookKey);
  const bodies = new Map<string, string>();
  const outcomes: WebhookOutcome[] = [];
  let url = options.url;
  let dropRatio = 0;

  const deliver = async (webhookId: string, body: string, dropped: boolean): Promise<WebhookOutcome> => {
    const outcome: WebhookOutcome = { webhookId, attempts: 0, lastStatus: null, delivered: false, dropped };
    outcomes.push(outcome);
    if (dropped || !url) return outcome;
    for (let attempt = 0; attempt < ATTEMPTS && !outcome.delivered; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, BACKOFF_MS[attempt - 1]));
      outcome.attempts += 1;
      outcome.lastStatus = await postSignedWebhook(url, signer, webhookId, body, options.now());
      outcome.delivered = outcome.lastStatus !== null && outcome.lastStatus >= 200 && outcome.lastStatus < 300;
    }
    return outcome;
  };

  return {
    send(webhookId, body) {
      bodies.set(webhookId, body);
      return deliver(webhookId, body, options.random() < dropRatio);
    },
    resend(webhookId) {
      const body = bodies.get(webhookId);
      if (body === undefined) throw new Error(`unknown webhook ${webhookId}`);
      return deliver(webhookId, body, false);
    },
    setDropRatio(ratio) {
      dropRatio = Math.min(1, Math.max(0, ratio));
    },
    setUrl(next) {
      url = next;
    },
    outcomes: () => outcomes.map((outcome) => ({ ...outcome })),
  };
}

/** One signed POST as Avara sends it; the status, or null when no answer came. */
export async function postSignedWebhook(url: string, signer: Webhook, webhookId: string, body: string, at: Date): Promise<number | null> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Avara-Webhooks-Sandbox/1',
        'webhook-id': webhookId,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signer.sign(webhookId, at, body),
      },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.status;
  } catch {
    return null;
  }
}
