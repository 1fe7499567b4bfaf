import type { PrivateKeyJwtAuth } from '../config/load-config.ts';
import { ConfigError } from '../config/config-error.ts';
import { SyncError } from '../errors.ts';
import { createTokenSource } from '../fhir/client-credentials.ts';
import { loadSigningKey, type SigningKey } from '../fhir/smart/load-signing-key.ts';
import { fail, networkReason, ok, warn, type CheckResult } from './doctor-check.ts';
import { fhirGet, FHIR_TIMEOUT_MS } from './fhir-get.ts';

const REGISTRATION_FIX = 'check FHIR_CLIENT_ID, FHIR_KEY_ID and FHIR_SCOPES against the EHR registration and that it fetches https://<host>/.well-known/jwks.json';

interface SmartConfiguration {
  token_endpoint?: unknown;
  token_endpoint_auth_methods_supported?: unknown;
  token_endpoint_auth_signing_alg_values_supported?: unknown;
  grant_types_supported?: unknown;
}

/**
 * FHIR_AUTH=private_key_jwt: the key, what the server's smart-configuration says it supports, and
 * a real token. `headers` is undefined when no token came, so nothing further can be checked.
 */
export async function checkSmartAuth(baseUrl: string, auth: PrivateKeyJwtAuth): Promise<{ results: CheckResult[]; headers?: Record<string, string> }> {
  let key: SigningKey;
  try {
    key = await loadSigningKey(auth);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { results: [fail('FHIR signing key', error.message, 'point FHIR_PRIVATE_KEY_FILE at an RSA or EC P-384 PEM private key')] };
  }
  const results = [ok('FHIR signing key', `${key.alg}, kid ${key.kid}`), await checkSmartConfiguration(baseUrl, auth, key)];
  try {
    const token = await createTokenSource(auth, { baseUrl, timeoutMs: FHIR_TIMEOUT_MS }).get();
    results.push(ok('FHIR token', 'the token endpoint accepted our client assertion'));
    return { results, headers: { authorization: `Bearer ${token}` } };
  } catch (error) {
    // The SyncError's message carries the endpoint's OAuth error and description: which claim it refused.
    const detail = error instanceof SyncError ? error.message : `no answer (${networkReason(error)})`;
    results.push(fail('FHIR token', detail, error instanceof SyncError && !error.retryable ? REGISTRATION_FIX : 'check FHIR_TOKEN_URL and network access'));
    return { results };
  }
}

/** SMART App Launch "Conformance" metadata, as far as a backend service relies on it. */
async function checkSmartConfiguration(baseUrl: string, auth: PrivateKeyJwtAuth, key: SigningKey): Promise<CheckResult> {
  const name = 'FHIR smart-configuration';
  const answer = await fhirGet(`${baseUrl}/.well-known/smart-configuration`, {});
  const found = 'json' in answer && answer.status === 200 ? (answer.json as SmartConfiguration | undefined) : undefined;
  if (!found || typeof found !== 'object') {
    const why = 'error' in answer ? answer.error : `answered ${answer.status}`;
    return auth.tokenUrl
      ? warn(name, `not published (${why}); FHIR_TOKEN_URL is used`, 'nothing to do if the token below is OK')
      : fail(name, `not published (${why}), so the token URL is unknown`, 'set FHIR_TOKEN_URL');
  }
  const missing = [
    lacks(found.token_endpoint_auth_methods_supported, 'private_key_jwt') && 'token_endpoint_auth_methods_supported: private_key_jwt',
    lacks(found.token_endpoint_auth_signing_alg_values_supported, key.alg) && `token_endpoint_auth_signing_alg_values_supported: ${key.alg}`,
    lacks(found.grant_types_supported, 'client_credentials') && 'grant_types_supported: client_credentials',
    !auth.tokenUrl && typeof found.token_endpoint !== 'string' && 'token_endpoint',
  ].filter((m): m is string => typeof m === 'string');
  if (missing.length > 0) return fail(name, `does not offer ${missing.join('; ')}`, 'ask the EHR vendor for SMART Backend Services, or use the key type it signs with');
  return ok(name, `private_key_jwt with ${key.alg} offered`);
}

// An absent list says nothing either way (many servers omit them); only a list without it refuses.
function lacks(list: unknown, wanted: string): boolean {
  return Array.isArray(list) && !list.includes(wanted);
}
