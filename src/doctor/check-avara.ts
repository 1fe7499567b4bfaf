import type { Config } from '../config/load-config.ts';
import { fail, networkReason, ok, warn, type CheckResult } from './doctor-check.ts';

const TIMEOUT_MS = 15_000;
// Standard Webhooks secrets are 24 to 64 random bytes.
const MIN_SECRET_BYTES = 24;

/** Calls GET /v1/autoScribe/studies?limit=1 with the key: the cheapest call that needs AutoScribe access. */
export async function checkAvaraAccess(avara: Config['avara']): Promise<CheckResult> {
  const name = 'Avara API key';
  let response: Response;
  try {
    response = await fetch(`${avara.baseUrl}/v1/autoScribe/studies?limit=1`, {
      headers: { authorization: `Bearer ${avara.apiKey}`, accept: 'application/json' },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body?.cancel();
  } catch (error) {
    return fail(name, `Avara at ${avara.baseUrl} did not answer (${networkReason(error)})`, 'check AVARA_BASE_URL and outbound network access');
  }
  if (response.status === 200) return ok(name, `accepted by ${avara.baseUrl} (AutoScribe studies readable)`);
  if (response.status === 401) return fail(name, 'key refused (401)', 'set AVARA_API_KEY to a live key from the Avara dashboard (API Keys)');
  if (response.status === 403) return fail(name, 'key lacks AutoScribe access (403)', 'ask Avara to enable the AutoScribe product for this API key');
  if (response.status === 429 || response.status >= 500) return warn(name, `Avara answered ${response.status}; access not confirmed`, 'run doctor again in a minute');
  return fail(name, `Avara answered ${response.status}`, 'check AVARA_BASE_URL points at the Avara API root');
}

export function checkWebhookKeys(avara: Config['avara']): CheckResult[] {
  return avara.webhookKeys.map((key, index) => {
    const name = avara.webhookKeys.length > 1 ? `webhook signing key ${index + 1}` : 'webhook signing key';
    const bytes = Buffer.from(key.slice('whsec_'.length), 'base64').length;
    if (bytes < MIN_SECRET_BYTES) {
      return warn(name, `decodes to ${bytes} bytes, shorter than the ${MIN_SECRET_BYTES} Avara issues`, 'copy the whole secret from Avara (API Keys -> View JWT Secret)');
    }
    return ok(name, `whsec_ secret of ${bytes} bytes`);
  });
}
