import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PrivateKeyJwtAuth } from '../src/config/load-config.ts';
import { createFhirClient } from '../src/fhir/fhir-client.ts';
import { startFhirServer, type EmbeddedFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { writeSigningKey, type TestSigningKey } from './support/smart-signing-keys.ts';

const CLIENT_ID = 'avara-fhir-sync-test';

describe('FHIR_AUTH=private_key_jwt against a SMART store', () => {
  let dir: string;
  let store: EmbeddedFhirServer | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'afs-smart-'));
  });
  afterEach(async () => {
    await store?.stop();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const startStore = async (key: TestSigningKey, tokenLifetimeSeconds?: number) => {
    store = await startFhirServer({ auth: { smart: { jwks: key.jwks, clientId: CLIENT_ID, tokenLifetimeSeconds } } });
    return store;
  };
  const auth = (key: TestSigningKey, extra: Partial<PrivateKeyJwtAuth> = {}): PrivateKeyJwtAuth => ({
    kind: 'private_key_jwt', clientId: CLIENT_ID, privateKeyFile: key.file, keyId: undefined, scopes: 'system/Patient.read', tokenUrl: undefined, ...extra,
  });

  for (const alg of ['RS384', 'ES384'] as const) {
    it(`searches with a token got by a ${alg} assertion, the token URL read from smart-configuration`, async () => {
      const key = await writeSigningKey(dir, alg);
      const fhir = await startStore(key);
      const client = createFhirClient({ baseUrl: fhir.baseUrl, auth: auth(key), maxRetries: 0 });
      await expect(client.search('Patient', { identifier: 'urn:x|1' })).resolves.toEqual([]);
      expect(fhir.smart!.tokensIssued()).toBe(1);
    });
  }

  it('uses FHIR_TOKEN_URL when set and never reads smart-configuration', async () => {
    const key = await writeSigningKey(dir, 'ES384');
    const fhir = await startStore(key);
    // A token URL the discovery document would not name: only configuration can point here.
    const client = createFhirClient({ baseUrl: fhir.baseUrl, auth: auth(key, { tokenUrl: fhir.smart!.tokenUrl }), maxRetries: 0 });
    await client.search('Patient', {});
    const paths = fhir.requests().map((r) => r.path);
    expect(paths.some((p) => p.includes('smart-configuration'))).toBe(false);
    expect(fhir.smart!.tokensIssued()).toBe(1);
  });

  it('uses FHIR_KEY_ID as kid when set', async () => {
    const key = await writeSigningKey(dir, 'RS384');
    const fhir = await startStore({ ...key, jwks: { keys: [{ ...key.jwks.keys[0]!, kid: 'key-2026' }] } });
    const client = createFhirClient({ baseUrl: fhir.baseUrl, auth: auth(key, { keyId: 'key-2026' }), maxRetries: 0 });
    await expect(client.search('Patient', {})).resolves.toEqual([]);
  });

  it('reuses a token across requests and fetches the next one before expires_in runs out', async () => {
    const key = await writeSigningKey(dir, 'ES384');
    // 4 s lifetime: renewed at half of it (2 s), before the store stops taking it at 4 s.
    const fhir = await startStore(key, 4);
    const client = createFhirClient({ baseUrl: fhir.baseUrl, auth: auth(key), maxRetries: 0 });
    for (let i = 0; i < 5; i++) await client.search('Patient', {});
    expect(fhir.smart!.tokensIssued()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await client.search('Patient', {});
    expect(fhir.smart!.tokensIssued()).toBe(2);
  });

  it('fetches a new token once and resends when the server answers 401 to a cached one', async () => {
    const key = await writeSigningKey(dir, 'RS384');
    const fhir = await startStore(key);
    const client = createFhirClient({ baseUrl: fhir.baseUrl, auth: auth(key), maxRetries: 0 });
    await client.search('Patient', {});
    fhir.smart!.revokeTokens();
    await expect(client.search('Patient', {})).resolves.toEqual([]);
    expect(fhir.smart!.tokensIssued()).toBe(2);
  });

  it('fails fhir_unauthorized after one refresh when a fresh token is refused too', async () => {
    const key = await writeSigningKey(dir, 'RS384');
    const fhir = await startStore(key);
    const client = createFhirClient({ baseUrl: fhir.baseUrl, auth: auth(key), maxRetries: 0 });
    fhir.faults.failNext(2, 401);
    await expect(client.search('Patient', {})).rejects.toMatchObject({ code: 'fhir_unauthorized', retryable: false });
    expect(fhir.smart!.tokensIssued()).toBe(2);
  });

  it('says which check the token endpoint refused when the key is not the registered one', async () => {
    const registered = await writeSigningKey(dir, 'ES384', 'registered');
    const other = await writeSigningKey(dir, 'ES384', 'other');
    const fhir = await startStore(registered);
    const client = createFhirClient({ baseUrl: fhir.baseUrl, auth: auth(other, { keyId: registered.kid }), maxRetries: 0 });
    const failure = await client.search('Patient', {}).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'fhir_unauthorized', retryable: false });
    expect((failure as Error).message).toContain('invalid_client: signature does not verify with the registered key');
  });

  it('asks for FHIR_TOKEN_URL when the server publishes no smart-configuration', async () => {
    const key = await writeSigningKey(dir, 'ES384');
    store = await startFhirServer({});
    const client = createFhirClient({ baseUrl: store.baseUrl, auth: auth(key), maxRetries: 0 });
    await expect(client.search('Patient', {})).rejects.toMatchObject({ code: 'fhir_unauthorized', message: expect.stringContaining('set FHIR_TOKEN_URL') });
  });
});
