import type { FhirAuth } from '../config/load-config.ts';
import { SyncError } from '../errors.ts';
import { privateKeyJwtGrant } from './smart/private-key-jwt-grant.ts';
import { readTokenAnswer } from './read-token-answer.ts';
import { describeNetworkFailure } from '../upstream/network-failure.ts';

export type TokenAuth = Extract<FhirAuth, { kind: 'client_credentials' | 'private_key_jwt' }>;

export interface TokenSource {
  get(): Promise<string>;
  /** Drops `token` if it is still the cached one (a 401 for it); a newer token stays. */
  invalidate(token?: string): void;
}

/** How one kind of client authenticates at the token endpoint. */
export interface TokenGrant {
  tokenUrl(): Promise<string>;
  request(tokenUrl: string): Promise<{ headers: Record<string, string>; body: string }>;
  /** For messages: what the endpoint refused ("client credentials", "client assertion"). */
  refused: string;
}

/**
 * OAuth2 client_credentials tokens, with client_secret_basic or (SMART Backend Services) a
 * private_key_jwt assertion. A token is reused until min(60 s, half its lifetime) before it
 * expires, so a token never expires mid-request and a short-lived one is still reused.
 */
export function createTokenSource(auth: TokenAuth, settings: { baseUrl: string; timeoutMs: number }): TokenSource {
  const grant = auth.kind === 'private_key_jwt' ? privateKeyJwtGrant(auth, settings) : clientSecretGrant(auth);
  let cached: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    const tokenUrl = await grant.tokenUrl();
    const { headers, body } = await grant.request(tokenUrl);
    let response: Response;
    try {
      response = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...headers },
        body,
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (cause) {
      throw SyncError.retryable('fhir_unavailable', `FHIR token endpoint unreachable (${describeNetworkFailure(cause, tokenUrl).text})`, { cause });
    }
    const answer = await readTokenAnswer(response, grant.refused);
    const lifetimeMs = answer.expiresInSeconds * 1000;
    cached = { token: answer.accessToken, expiresAt: Date.now() + lifetimeMs - Math.min(60_000, lifetimeMs / 2) };
    return cached.token;
  }

  return {
    async get(): Promise<string> {
      if (cached && cached.expiresAt > Date.now()) return cached.token;
      pending ??= fetchToken().finally(() => (pending = undefined));
      return pending;
    },
    invalidate(token?: string): void {
      if (token === undefined || cached?.token === token) cached = undefined;
    },
  };
}

function clientSecretGrant(auth: Extract<FhirAuth, { kind: 'client_credentials' }>): TokenGrant {
  const basic = Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64');
  return {
    tokenUrl: async () => auth.tokenUrl,
    request: async () => ({ headers: { Authorization: `Basic ${basic}` }, body: 'grant_type=client_credentials' }),
    refused: 'client credentials',
  };
}
