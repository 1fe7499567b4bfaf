import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFhirServer, type EmbeddedFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { writeSigningKey, type TestSigningKey } from './support/smart-signing-keys.ts';

const CLIENT_ID = 'store-test-client';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('the embedded store as a SMART Backend Services server', () => {
  let dir: string;
  let key: TestSigningKey;
  let store: EmbeddedFhirServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'afs-store-smart-'));
    key = await writeSigningKey(dir, 'ES384');
    store = await startFhirServer({ auth: { smart: { jwks: key.jwks, clientId: CLIENT_ID } } });
  });
  afterAll(async () => {
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const assertion = (claims: { aud?: string; exp?: number; iss?: string; jti?: string } = {}, alg: string = key.alg) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(claims.iss ?? CLIENT_ID)
      .setSubject(CLIENT_ID)
      .setAudience(claims.aud ?? store.smart!.tokenUrl)
      .setJti(claims.jti ?? randomUUID())
      .setExpirationTime(claims.exp ?? now + 240)
      .sign(key.privateKey);
  };
  const requestToken = (clientAssertion: string) => fetch(store.smart!.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: clientAssertion, scope: 'system/Patient.read' }),
  });

  it('publishes its token endpoint and the assertion algorithms it takes in smart-configuration', async () => {
    const config = await fetch(`${store.baseUrl}/.well-known/smart-configuration`).then((r) => r.json());
    expect(config).toMatchObject({
      token_endpoint: store.smart!.tokenUrl,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    });
  });

  it('issues a bearer token with expires_in that the FHIR API then takes, and answers 401 without one', async () => {
    const answer = await requestToken(await assertion());
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 300 });
    expect((await fetch(`${store.baseUrl}/Patient`)).status).toBe(401);
    expect((await fetch(`${store.baseUrl}/Patient`, { headers: { authorization: 'Bearer not-issued' } })).status).toBe(401);
    expect((await fetch(`${store.baseUrl}/Patient`, { headers: { authorization: `Bearer ${body.access_token}` } })).status).toBe(200);
  });

  it('refuses an assertion whose jti it has seen before', async () => {
    const once = await assertion();
    expect((await requestToken(once)).status).toBe(200);
    const replay = await requestToken(once);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toEqual({ error: 'invalid_client', error_description: 'jti was already used (replayed assertion)' });
  });

  it('refuses an assertion that expires more than 5 minutes ahead', async () => {
    const answer = await requestToken(await assertion({ exp: Math.floor(Date.now() / 1000) + 600 }));
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ error: 'invalid_client', error_description: 'exp is more than 5 minutes in the future' });
  });

  it('names the claim it refused: another audience, another issuer', async () => {
    const wrongAud = await requestToken(await assertion({ aud: 'https://elsewhere.example/token' }));
    expect(await wrongAud.json()).toMatchObject({ error: 'invalid_client', error_description: expect.stringMatching(/^aud claim invalid/) });
    const wrongIss = await requestToken(await assertion({ iss: 'someone-else' }));
    expect(await wrongIss.json()).toMatchObject({ error: 'invalid_client', error_description: expect.stringMatching(/^iss claim invalid/) });
  });

  it('refuses an assertion signed with an algorithm SMART does not allow', async () => {
    const rsa = await writeSigningKey(dir, 'RS384', 'rs256');
    const rs256Store = await startFhirServer({ auth: { smart: { jwks: { keys: [{ ...rsa.jwks.keys[0]!, alg: 'RS256' }] }, clientId: CLIENT_ID } } });
    try {
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: rsa.kid }).setIssuer(CLIENT_ID).setSubject(CLIENT_ID)
        .setAudience(rs256Store.smart!.tokenUrl).setJti(randomUUID()).setExpirationTime(now + 60).sign(rsa.privateKey);
      const answer = await fetch(rs256Store.smart!.tokenUrl, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: token }),
      });
      expect(await answer.json()).toMatchObject({ error: 'invalid_client', error_description: 'alg not allowed (RS384 or ES384 only)' });
    } finally {
      await rs256Store.stop();
    }
  });
});
