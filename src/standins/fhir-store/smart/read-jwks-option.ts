import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import type { JSONWebKeySet } from 'jose';
import type { SmartAuthOptions } from './smart-auth-router.ts';

/** `fhir-server --auth smart --jwks <file or URL> --client-id <id>` as the store's SMART options. */
export async function readJwksOption(jwks: string | undefined, clientId: string | undefined): Promise<SmartAuthOptions> {
  if (!jwks || !clientId) throw new InvalidArgumentError('--auth smart needs --jwks <file or URL> and --client-id <id>');
  // A URL is fetched when an assertion arrives, as an EHR does with a registered JWKS URL.
  if (/^https?:\/\//.test(jwks)) return { jwks, clientId };
  let parsed: JSONWebKeySet;
  try {
    parsed = JSON.parse(await readFile(jwks, 'utf8')) as JSONWebKeySet;
  } catch {
    throw new InvalidArgumentError(`--jwks: ${jwks} is not a readable JSON file`);
  }
  if (!Array.isArray(parsed?.keys)) throw new InvalidArgumentError('--jwks: the file is not a JWK Set ({"keys": [...]})');
  return { jwks: parsed, clientId };
}
