import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { PrivateKeyJwtAuth } from '../../config/load-config.ts';
import { ConfigError } from '../../config/config-error.ts';

export type SigningAlgorithm = 'RS384' | 'ES384';

export interface SigningKey {
  privateKey: KeyObject;
  alg: SigningAlgorithm;
  kid: string;
  /** kty and the public members only, plus kid, alg and use. */
  publicJwk: JWK;
}

/**
 * Reads FHIR_PRIVATE_KEY_FILE. SMART Backend Services allows only RS384 and ES384, so any other
 * key is a configuration error at start, not a token endpoint refusal at the first delivery.
 */
export async function loadSigningKey(auth: Pick<PrivateKeyJwtAuth, 'privateKeyFile' | 'keyId'>): Promise<SigningKey> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(auth.privateKeyFile));
  } catch (error) {
    // The reason (ENOENT, a decoder name) but never the file's bytes.
    const reason = (error as { code?: string }).code ?? 'not a PEM private key';
    throw new ConfigError(`FHIR_PRIVATE_KEY_FILE: cannot be read as a private key (${reason})`, ['FHIR_PRIVATE_KEY_FILE']);
  }
  const alg = algorithmFor(privateKey);
  // Exporting from the public half is what guarantees d, p, q, dp, dq and qi never leave.
  const exported = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = auth.keyId ?? (await calculateJwkThumbprint(exported, 'sha256'));
  return { privateKey, alg, kid, publicJwk: { ...exported, kid, alg, use: 'sig' } };
}

function algorithmFor(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS384';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp384r1') return 'ES384';
  const found = key.asymmetricKeyType === 'ec' ? `EC ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown curve'}` : (key.asymmetricKeyType ?? 'unknown');
  throw new ConfigError(
    `FHIR_PRIVATE_KEY_FILE: a ${found} key; SMART Backend Services needs an RSA key (RS384) or an EC P-384 key (ES384)`,
    ['FHIR_PRIVATE_KEY_FILE'],
  );
}
