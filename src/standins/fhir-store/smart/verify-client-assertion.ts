import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet } from 'jose';

export interface AssertionRules {
  clientId: string;
  /** A JWK Set, or the http(s) URL the client publishes it at. */
  jwks: JSONWebKeySet | string;
}

export type AssertionVerdict = { ok: true } | { ok: false; description: string };

// SMART Backend Services "Authenticating to the token endpoint": exp no more than five minutes
// ahead, RS384 or ES384, iss = sub = client_id, aud = the token URL, jti never seen before.
const MAX_LIFETIME_SECONDS = 300;
const ALGORITHMS = ['RS384', 'ES384'];

/** Checks client assertions the way a SMART token endpoint must, remembering jtis until they expire. */
export function createAssertionVerifier(rules: AssertionRules) {
  const keys = typeof rules.jwks === 'string' ? createRemoteJWKSet(new URL(rules.jwks)) : createLocalJWKSet(rules.jwks);
  const seenJtis = new Map<string, number>();

  return async function verifyClientAssertion(assertion: string, tokenUrl: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<AssertionVerdict> {
    for (const [jti, exp] of seenJtis) if (exp < nowSeconds) seenJtis.delete(jti);
    let payload;
    try {
      ({ payload } = await jwtVerify(assertion, keys, {
        algorithms: ALGORITHMS,
        issuer: rules.clientId,
        subject: rules.clientId,
        audience: tokenUrl,
        requiredClaims: ['exp', 'jti'],
        currentDate: new Date(nowSeconds * 1000),
      }));
    } catch (error) {
      return { ok: false, description: describeRefusal(error) };
    }
    if (payload.exp! > nowSeconds + MAX_LIFETIME_SECONDS) return { ok: false, description: 'exp is more than 5 minutes in the future' };
    if (seenJtis.has(payload.jti!)) return { ok: false, description: 'jti was already used (replayed assertion)' };
    seenJtis.set(payload.jti!, payload.exp!);
    return { ok: true };
  };
}

/** Names the claim or check that failed, as a token endpoint's error_description. */
function describeRefusal(error: unknown): string {
  if (error instanceof errors.JWTClaimValidationFailed) return `${error.claim} claim invalid (${error.reason})`;
  if (error instanceof errors.JWTExpired) return 'exp claim invalid (assertion expired)';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'alg not allowed (RS384 or ES384 only)';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key in the registered JWKS matches kid';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify with the registered key';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JOSEError) return `assertion refused (${error.code})`;
  return 'assertion is not a valid JWT';
}
