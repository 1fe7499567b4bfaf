import type { Config } from '../config/load-config.ts';
import { ConfigError } from '../config/config-error.ts';
import { fhirAuthHeaders } from '../doctor/fhir-get.ts';
import { SyncError } from '../errors.ts';
import { describeNetworkFailure } from '../upstream/network-failure.ts';
import { hostPort, type Reachability } from './reachability.ts';

const PROBE_TIMEOUT_MS = 10_000;

/**
 * The FHIR server of a `fhir` or `fhir-documents` target: a token first when FHIR_AUTH asks for
 * one (client_credentials, private_key_jwt: the token endpoint is as needed as the server), then
 * GET /metadata with our credentials. One request each; nothing is written.
 */
export async function probeFhirServer(fhir: Config['fhir'], signal?: AbortSignal): Promise<Reachability> {
  const endpoint = hostPort(fhir.baseUrl);
  let headers: Record<string, string>;
  try {
    headers = await fhirAuthHeaders(fhir);
  } catch (error) {
    return tokenFailure(error, endpoint);
  }
  const url = `${fhir.baseUrl}/metadata`;
  try {
    const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    const response = await fetch(url, { headers: { accept: 'application/fhir+json', ...headers }, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    await response.body?.cancel();
    if (response.ok) return { reachable: true, cause: 'ok', endpoint, detail: String(response.status) };
    const cause = response.status === 401 || response.status === 403 ? 'auth' : 'http';
    return { reachable: false, cause, endpoint, detail: String(response.status) };
  } catch (error) {
    const failure = describeNetworkFailure(error, url);
    return { reachable: false, cause: failure.cause, endpoint: failure.where, detail: failure.code };
  }
}

/** Why no token came: refused (auth), unreachable (the network's cause), or a key we cannot read. */
function tokenFailure(error: unknown, endpoint: string): Reachability {
  if (error instanceof ConfigError) return { reachable: false, cause: 'config', endpoint, detail: error.variables.join(',') || 'FHIR_PRIVATE_KEY_FILE' };
  if (error instanceof SyncError && error.code === 'fhir_unauthorized') return { reachable: false, cause: 'auth', endpoint, detail: 'token refused' };
  if (error instanceof SyncError && error.cause) {
    const failure = describeNetworkFailure(error.cause);
    return { reachable: false, cause: failure.cause, endpoint: failure.where, detail: failure.code };
  }
  return { reachable: false, cause: 'http', endpoint, detail: error instanceof SyncError ? error.code : 'token failed' };
}
