import type { PrivateKeyJwtAuth } from '../../config/load-config.ts';
import { ConfigError } from '../../config/config-error.ts';
import { SyncError } from '../../errors.ts';
import type { TokenGrant } from '../client-credentials.ts';
import { discoverTokenUrl } from './discover-token-url.ts';
import { loadSigningKey, type SigningKey } from './load-signing-key.ts';
import { signClientAssertion } from './sign-client-assertion.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** SMART Backend Services: a client_credentials grant authenticated by a signed assertion. */
export function privateKeyJwtGrant(auth: PrivateKeyJwtAuth, settings: { baseUrl: string; timeoutMs: number }): TokenGrant {
  let key: Promise<SigningKey> | undefined;
  let discovered: Promise<string> | undefined;
  return {
    tokenUrl() {
      if (auth.tokenUrl) return Promise.resolve(auth.tokenUrl);
      // Kept once found; a failed discovery is asked again by the next token request.
      discovered ??= discoverTokenUrl(settings.baseUrl, settings.timeoutMs).catch((error: unknown) => {
        discovered = undefined;
        throw error;
      });
      return discovered;
    },
    async request(tokenUrl) {
      key ??= loadSigningKey(auth);
      const assertion = await signClientAssertion(await key.catch(asUnauthorized), auth.clientId, tokenUrl);
      const body = new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER,
        client_assertion: assertion,
        scope: auth.scopes,
      });
      return { headers: {}, body: body.toString() };
    },
    refused: 'client assertion',
  };
}

// startApp refuses a bad key before listening; a key file changed since pauses like refused credentials.
function asUnauthorized(error: unknown): never {
  if (error instanceof ConfigError) throw SyncError.permanent('fhir_unauthorized', error.message);
  throw error;
}
