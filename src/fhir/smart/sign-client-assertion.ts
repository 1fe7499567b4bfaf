import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKey } from './load-signing-key.ts';

// SMART Backend Services: exp "no more than five minutes in the future". Four leaves room for
// a clock of ours that runs a little ahead of the EHR's.
const ASSERTION_LIFETIME_SECONDS = 240;

/** The client_assertion of SMART Backend Services (RFC 7523 with SMART's claim rules). */
export function signClientAssertion(key: SigningKey, clientId: string, tokenUrl: string, nowMs = Date.now()): Promise<string> {
  const nowSeconds = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl)
    // A token endpoint refuses a jti it has seen, so every assertion needs its own.
    .setJti(randomUUID())
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + ASSERTION_LIFETIME_SECONDS)
    .sign(key.privateKey);
}
