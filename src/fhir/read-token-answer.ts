import { SyncError } from '../errors.ts';

// RFC 6749 makes expires_in optional; five minutes is what most servers issue.
const DEFAULT_EXPIRES_IN_SECONDS = 300;

/**
 * A token endpoint's answer, or the SyncError it means. A refusal keeps the endpoint's OAuth
 * `error` and `error_description` (RFC 6749 5.2): they name the claim it refused, which is what
 * an operator needs, and they carry no PHI. Anything else of the body is dropped.
 */
export async function readTokenAnswer(response: Response, refused: string): Promise<{ accessToken: string; expiresInSeconds: number }> {
  if (response.status === 400 || response.status === 401 || response.status === 403) {
    throw SyncError.permanent('fhir_unauthorized', `FHIR token endpoint refused the ${refused} (${response.status}${await oauthError(response)})`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw SyncError.retryable('fhir_unavailable', `FHIR token endpoint answered ${response.status}`);
  }
  const body = (await response.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown };
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw SyncError.retryable('fhir_unavailable', 'FHIR token endpoint answered without access_token');
  }
  const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_EXPIRES_IN_SECONDS;
  return { accessToken: body.access_token, expiresInSeconds: expiresIn };
}

async function oauthError(response: Response): Promise<string> {
  const body = (await response.json().catch(() => undefined)) as { error?: unknown; error_description?: unknown } | undefined;
  const error = printable(body?.error, 60);
  const description = printable(body?.error_description, 200);
  return `${error ? ` ${error}` : ''}${description ? `: ${description}` : ''}`;
}

function printable(value: unknown, maxChars: number): string {
  return typeof value === 'string' ? value.replace(/[^\x20-\x7e]/g, ' ').trim().slice(0, maxChars) : '';
}
