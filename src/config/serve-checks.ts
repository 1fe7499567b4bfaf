import type { CrossCheck, Env } from './parse-env.ts';
import { adminTokensClash } from './admin-operators.ts';

// What one variable needs from another, checked with every other problem so a first start names
// them all at once. Runs on the values that parsed; a refused value is already reported.

const AUTH_CREDENTIALS: Record<Env['FHIR_AUTH'], readonly (keyof Env)[]> = {
  none: [],
  basic: ['FHIR_USERNAME', 'FHIR_PASSWORD'],
  bearer: ['FHIR_BEARER_TOKEN'],
  client_credentials: ['FHIR_CLIENT_ID', 'FHIR_CLIENT_SECRET', 'FHIR_TOKEN_URL'],
  private_key_jwt: ['FHIR_CLIENT_ID', 'FHIR_PRIVATE_KEY_FILE'],
};

/** `serve`'s configuration: credentials of FHIR_AUTH, the hl7v2 engine and TLS pairs, the backoff range. */
export const serveCrossChecks: CrossCheck = function* (e) {
  if (e.FHIR_AUTH) {
    for (const name of AUTH_CREDENTIALS[e.FHIR_AUTH]) if (e[name] === undefined) yield [name, `is required when FHIR_AUTH=${e.FHIR_AUTH}`];
  }
  if (e.DELIVERY_TARGETS?.includes('hl7v2')) {
    for (const name of ['HL7_HOST', 'HL7_PORT'] as const) if (e[name] === undefined) yield [name, 'is required when DELIVERY_TARGETS includes hl7v2'];
    // Mutual TLS needs both halves of the client's identity.
    if (e.HL7_TLS && e.HL7_TLS_CERT_FILE !== undefined && e.HL7_TLS_KEY_FILE === undefined) yield ['HL7_TLS_KEY_FILE', 'is required with HL7_TLS_CERT_FILE'];
    if (e.HL7_TLS && e.HL7_TLS_KEY_FILE !== undefined && e.HL7_TLS_CERT_FILE === undefined) yield ['HL7_TLS_CERT_FILE', 'is required with HL7_TLS_KEY_FILE'];
  }
  const tokensClash = adminTokensClash(e.ADMIN_TOKEN, e.ADMIN_TOKENS);
  if (tokensClash) yield ['ADMIN_TOKENS', tokensClash];
  if (e.RETRY_MAX_SECONDS !== undefined && e.RETRY_BASE_SECONDS !== undefined && e.RETRY_MAX_SECONDS < e.RETRY_BASE_SECONDS) {
    yield ['RETRY_MAX_SECONDS', 'must not be smaller than RETRY_BASE_SECONDS'];
  }
};
