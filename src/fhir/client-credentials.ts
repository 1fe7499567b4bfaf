import { SyncError } from '../errors.ts';

/**
 * OAuth2 client_credentials (SMART backend services style, client_secret_basic) token source.
 * Tokens are cached until shortly before they expire; a 401 from the FHIR server drops them.
 */
export function createTokenSource(auth: { clientId: string; clientSecret: string; tokenUrl: string }, timeoutMs: number) {
  let cached: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    const basic = Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64');
    let response: Response;
    try {
      response = await fetch(auth.tokenUrl, {
        method: 'POST',
        headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: 'grant_type=client_credentials',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      throw SyncError.retryable('fhir_unavailable', 'FHIR token endpoint unreachable', { cause });
    }
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      throw SyncError.permanent('fhir_unauthorized', `FHIR token endpoint refused the client credentials (${response.status})`);
    }
    if (!response.ok) throw SyncError.retryable('fhir_unavailable', `FHIR token endpoint answered ${response.status}`);
    const body = (await response.json()) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw SyncError.retryable('fhir_unavailable', 'FHIR token endpoint answered without access_token');
    // Renew a minute early so a token never expires mid-request.
    cached = { token: body.access_token, expiresAt: Date.now() + Math.max(0, (body.expires_in ?? 300) - 60) * 1000 };
    return cached.token;
  }

  return {
    async get(): Promise<string> {
      if (cached && cached.expiresAt > Date.now()) return cached.token;
      pending ??= fetchToken().finally(() => (pending = undefined));
      return pending;
    },
    invalidate(): void {
      cached = undefined;
    },
  };
}
