import { randomBytes } from 'node:crypto';
import express, { Router, type Request } from 'express';
import { createAssertionVerifier, type AssertionRules } from './verify-client-assertion.ts';

export interface SmartAuthOptions extends AssertionRules {
  /** expires_in of the tokens issued; tests shorten it to see a refresh. Default 300. */
  tokenLifetimeSeconds?: number;
}

export interface SmartAuthControl {
  /** Every token issued so far stops working, as when an EHR restarts: the next request gets 401. */
  revokeTokens(): void;
  /** How many tokens the endpoint has issued. */
  tokensIssued(): number;
  /** The tokens still valid, for tests proving none reaches a log. */
  issuedTokens(): string[];
}

const TOKEN_PATH = '/auth/token';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
// Public as on real EHRs: a client reads them before it has a token.
const OPEN_PATHS = new Set(['/metadata', '/.well-known/smart-configuration', TOKEN_PATH]);

/**
 * SMART Backend Services for the embedded store, mounted at its base path: discovery, a token
 * endpoint for private_key_jwt clients, and a bearer check on every other FHIR request.
 */
export function smartAuthRouter(options: SmartAuthOptions): { router: Router; control: SmartAuthControl } {
  const verify = createAssertionVerifier(options);
  const lifetimeSeconds = options.tokenLifetimeSeconds ?? 300;
  const tokens = new Map<string, number>();
  let issued = 0;
  const router = Router();
  const tokenUrl = (req: Request) => `${req.protocol}://${req.get('host')}${req.baseUrl}${TOKEN_PATH}`;

  router.get('/.well-known/smart-configuration', (req, res) => {
    res.json({
      token_endpoint: tokenUrl(req),
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
      grant_types_supported: ['client_credentials'],
      scopes_supported: ['system/*.read', 'system/*.write', 'system/*.rs', 'system/*.cud'],
      capabilities: ['client-confidential-asymmetric'],
    });
  });

  router.post(TOKEN_PATH, express.urlencoded({ extended: false, limit: '64kb' }), async (req, res) => {
    const form = (req.body ?? {}) as Record<string, string | undefined>;
    const refusal = await checkTokenRequest(form, (assertion) => verify(assertion, tokenUrl(req)));
    if (refusal) {
      res.status(400).set('Cache-Control', 'no-store').json(refusal);
      return;
    }
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, Date.now() + lifetimeSeconds * 1000);
    issued += 1;
    res.set('Cache-Control', 'no-store').json({ access_token: token, token_type: 'bearer', expires_in: lifetimeSeconds, scope: form.scope ?? '' });
  });

  router.use((req, res, next) => {
    const token = /^Bearer (.+)$/i.exec(req.get('authorization') ?? '')?.[1];
    const expiresAt = token === undefined ? undefined : tokens.get(token);
    if (OPEN_PATHS.has(req.path) || (expiresAt !== undefined && expiresAt > Date.now())) {
      next();
      return;
    }
    res.status(401).set('WWW-Authenticate', 'Bearer').type('application/fhir+json').json({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'login', diagnostics: token === undefined ? 'bearer token required' : 'bearer token unknown or expired' }],
    });
  });

  return { router, control: { revokeTokens: () => tokens.clear(), tokensIssued: () => issued, issuedTokens: () => [...tokens.keys()] } };
}

/** RFC 6749 5.2: the OAuth error and a description naming what was refused; undefined when accepted. */
async function checkTokenRequest(
  form: Record<string, string | undefined>,
  verify: (assertion: string) => Promise<{ ok: true } | { ok: false; description: string }>,
): Promise<{ error: string; error_description: string } | undefined> {
  if (form.grant_type !== 'client_credentials') return { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' };
  if (form.client_assertion_type !== JWT_BEARER || !form.client_assertion) {
    return { error: 'invalid_client', error_description: `client_assertion_type must be ${JWT_BEARER} with a client_assertion` };
  }
  const verdict = await verify(form.client_assertion);
  return verdict.ok ? undefined : { error: 'invalid_client', error_description: verdict.description };
}
