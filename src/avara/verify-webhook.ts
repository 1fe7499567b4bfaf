import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export type WebhookVerdict =
  | { ok: true; payload: unknown }
  | { ok: false; status: 401 | 400; code: 'missing_signature_headers' | 'bad_signature' | 'stale_timestamp' | 'malformed_json' };

// Standard Webhooks tolerance, as the reference library enforces it: exactly 300 s still passes.
const TOLERANCE_SECONDS = 300;

/**
 * Verifies an Avara webhook (avara-api.md §7.2) against every accepted secret (rotation), on the
 * raw body exactly as received. Secrets are read by the `standardwebhooks` package (its rules for
 * what a valid secret is); the HMAC is node's native one, a tenth of the package's pure-JS SHA-256
 * on the path every webhook takes. The timestamp window is checked here so that `nowSeconds` can
 * be given (the package's own check reads the clock).
 */
export function verifyAvaraWebhook(
  rawBody: Buffer | string,
  headers: Record<string, string | string[] | undefined>,
  secrets: readonly string[],
  nowSeconds: number = Math.floor(Date.now() / 1000),
): WebhookVerdict {
  const refused = checkWebhookHeaders(headers, nowSeconds);
  if (refused) return refused;
  const id = header(headers, 'webhook-id')!;
  const signatures = header(headers, 'webhook-signature')!;
  const timestamp = Number(header(headers, 'webhook-timestamp'));
  // Standard Webhooks signs the bytes as sent: a body decoded first would turn invalid UTF-8
  // into U+FFFD, refusing a correct sender and accepting another body under its signature.
  const bytes = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  if (!secrets.some((secret) => signatureMatches(secret, id, timestamp, bytes, signatures))) {
    return reject(401, 'bad_signature');
  }
  // Parsed only after the signature matched (§7.2 step 7); JSON is UTF-8 (RFC 8259), so bytes
  // that are not are a malformed body, not something to guess at.
  try {
    return { ok: true, payload: JSON.parse(STRICT_UTF8.decode(bytes)) as unknown };
  } catch {
    return reject(400, 'malformed_json');
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * What can be judged from the headers alone: the three Standard Webhooks headers are present and
 * the timestamp is inside the tolerance. Run before the body is read, so a request that can never
 * verify costs no buffer and no wait. Null when the headers may verify.
 */
export function checkWebhookHeaders(headers: Record<string, string | string[] | undefined>, nowSeconds: number): Exclude<WebhookVerdict, { ok: true }> | null {
  const timestampText = header(headers, 'webhook-timestamp');
  if (!header(headers, 'webhook-id') || !timestampText || !header(headers, 'webhook-signature')) return reject(401, 'missing_signature_headers');
  if (!/^\d+$/.test(timestampText)) return reject(401, 'bad_signature');
  if (Math.abs(nowSeconds - Number(timestampText)) > TOLERANCE_SECONDS) return reject(401, 'stale_timestamp');
  return null;
}

function signatureMatches(secret: string, id: string, timestamp: number, rawBody: Buffer, offered: string): boolean {
  const key = signingKey(secret);
  if (!key) return false;   // a malformed secret matches nothing; config validation names it at start-up
  const expected = Buffer.from(createHmac('sha256', key).update(`${id}.${timestamp}.`).update(rawBody).digest('base64'));
  // Several space-separated signatures may arrive during key rotation; only v1 entries count.
  return offered.split(' ').some((entry) => {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') return false;
    const candidate = Buffer.from(entry.slice(comma + 1));
    return candidate.length === expected.length && timingSafeEqual(candidate, expected);
  });
}

const signingKeys = new Map<string, Buffer | null>();

/** The HMAC key of a `whsec_` secret, or null when the package refuses the secret. Read once per secret. */
function signingKey(secret: string): Buffer | null {
  let key = signingKeys.get(secret);
  if (key === undefined) {
    try {
      new Webhook(secret);
      key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
    } catch {
      key = null;
    }
    signingKeys.set(secret, key);
  }
  return key;
}

const SECRET_PREFIX = 'whsec_';

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  // node:http gives names in lower case: found at once. A record built by hand (a test, another
  // framework) may spell them otherwise; only then are all names compared. Looking at every
  // name first made this function the intake's most expensive of its own (six scans a webhook).
  const value = Object.hasOwn(headers, name) ? headers[name] : findIgnoringCase(headers, name);
  return Array.isArray(value) ? value[0] : value;
}

function findIgnoringCase(headers: Record<string, string | string[] | undefined>, name: string): string | string[] | undefined {
  for (const key in headers) {
    if (Object.hasOwn(headers, key) && key.toLowerCase() === name) return headers[key];
  }
  return undefined;
}

function reject(status: 401 | 400, code: Exclude<WebhookVerdict, { ok: true }>['code']): Exclude<WebhookVerdict, { ok: true }> {
  return { ok: false, status, code };
}
