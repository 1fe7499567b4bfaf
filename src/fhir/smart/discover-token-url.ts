import { SyncError } from '../../errors.ts';
import { describeNetworkFailure } from '../../upstream/network-failure.ts';

/**
 * SMART App Launch "Conformance": the token endpoint is published at
 * <base>/.well-known/smart-configuration, so FHIR_TOKEN_URL may be left out.
 */
export async function discoverTokenUrl(baseUrl: string, timeoutMs: number): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/.well-known/smart-configuration`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    throw SyncError.retryable('fhir_unavailable', `FHIR smart-configuration unreachable (${describeNetworkFailure(cause, baseUrl).text})`, { cause });
  }
  if (response.status === 429 || response.status >= 500) {
    await response.body?.cancel();
    throw SyncError.retryable('fhir_unavailable', `FHIR smart-configuration answered ${response.status}`);
  }
  const body = response.ok ? ((await response.json().catch(() => undefined)) as { token_endpoint?: unknown } | undefined) : undefined;
  if (!response.ok) await response.body?.cancel();
  const tokenUrl = body?.token_endpoint;
  if (typeof tokenUrl !== 'string' || !/^https?:\/\//.test(tokenUrl)) {
    // A person must act either way: set FHIR_TOKEN_URL or fix the server's discovery document.
    throw SyncError.permanent('fhir_unauthorized', `FHIR smart-configuration (${response.status}) names no token_endpoint; set FHIR_TOKEN_URL`);
  }
  return tokenUrl;
}
