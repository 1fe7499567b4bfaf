import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config-error.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { loadSigningKey } from '../src/fhir/smart/load-signing-key.ts';
import { SERVE_TEST_SETTINGS } from './support/serve-test-settings.ts';
import { writeSigningKey } from './support/smart-signing-keys.ts';

const VALID = {
  ...SERVE_TEST_SETTINGS,
  AVARA_API_KEY: 'sk_live_0123456789abcdef0123456789abcdef',
  AVARA_WEBHOOK_KEY: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  FHIR_BASE_URL: 'https://ehr.example.org/fhir/R4',
  FHIR_AUTH: 'private_key_jwt',
  FHIR_CLIENT_ID: 'avara-sync',
  FHIR_PRIVATE_KEY_FILE: '/etc/avara/fhir-key.pem',
};

describe('FHIR_AUTH=private_key_jwt settings', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'afs-key-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults the scopes to design.md, the kid to the thumbprint and the token URL to discovery', () => {
    expect(loadConfig(VALID).fhir.auth).toEqual({
      kind: 'private_key_jwt',
      clientId: 'avara-sync',
      privateKeyFile: '/etc/avara/fhir-key.pem',
      keyId: undefined,
      scopes: 'system/Patient.read system/DocumentReference.write system/DiagnosticReport.write system/ImagingStudy.write system/Practitioner.read',
      tokenUrl: undefined,
    });
  });

  it('requires FHIR_CLIENT_ID and FHIR_PRIVATE_KEY_FILE', () => {
    const { FHIR_PRIVATE_KEY_FILE: _file, ...withoutKey } = VALID;
    expect(() => loadConfig(withoutKey)).toThrow('FHIR_PRIVATE_KEY_FILE: is required when FHIR_AUTH=private_key_jwt');
    const { FHIR_CLIENT_ID: _id, ...withoutClient } = VALID;
    expect(() => loadConfig(withoutClient)).toThrow('FHIR_CLIENT_ID: is required when FHIR_AUTH=private_key_jwt');
  });

  it('signs RS384 with an RSA key and ES384 with an EC P-384 key', async () => {
    const rsa = await writeSigningKey(dir, 'RS384');
    const ec = await writeSigningKey(dir, 'ES384');
    await expect(loadSigningKey({ privateKeyFile: rsa.file, keyId: undefined })).resolves.toMatchObject({ alg: 'RS384', kid: rsa.kid });
    await expect(loadSigningKey({ privateKeyFile: ec.file, keyId: 'k1' })).resolves.toMatchObject({ alg: 'ES384', kid: 'k1' });
  });

  it('refuses an EC P-256 key, an Ed25519 key and an unreadable file with a config error naming the variable', async () => {
    for (const [name, pair] of [['p256', generateKeyPairSync('ec', { namedCurve: 'P-256' })], ['ed', generateKeyPairSync('ed25519')]] as const) {
      const file = join(dir, `${name}.pem`);
      writeFileSync(file, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const error = await loadSigningKey({ privateKeyFile: file, keyId: undefined }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(/^FHIR_PRIVATE_KEY_FILE: a .* key; SMART Backend Services needs an RSA key \(RS384\) or an EC P-384 key \(ES384\)$/);
    }
    await expect(loadSigningKey({ privateKeyFile: join(dir, 'absent.pem'), keyId: undefined })).rejects.toThrow('FHIR_PRIVATE_KEY_FILE: cannot be read as a private key (ENOENT)');
  });
});
