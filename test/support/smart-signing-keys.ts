import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JSONWebKeySet, type JWK } from 'jose';

export interface TestSigningKey {
  /** PEM (PKCS#8) file, as FHIR_PRIVATE_KEY_FILE. */
  file: string;
  pem: string;
  privateKey: KeyObject;
  alg: 'RS384' | 'ES384';
  /** The RFC 7638 thumbprint, which the app uses as kid when FHIR_KEY_ID is not set. */
  kid: string;
  /** What an EHR registers for this client: the public key with kid and alg. */
  jwks: JSONWebKeySet;
}

/** A fresh key pair written to `dir`, for FHIR_AUTH=private_key_jwt. */
export async function writeSigningKey(dir: string, alg: 'RS384' | 'ES384', name = alg.toLowerCase()): Promise<TestSigningKey> {
  const { privateKey } = alg === 'RS384'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const file = join(dir, `${name}.pem`);
  writeFileSync(file, pem, { mode: 0o600 });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { file, pem, privateKey, alg, kid, jwks: { keys: [{ ...jwk, kid, alg, use: 'sig' }] } };
}
