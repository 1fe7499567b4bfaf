import type { Config } from '../config/load-config.ts';
import { createTokenSource } from '../fhir/client-credentials.ts';
import { networkReason } from './doctor-check.ts';

export const FHIR_TIMEOUT_MS = 15_000;

export type FhirAnswer = { status: number; json: unknown } | { error: string };

/** A GET that never throws: doctor reports what happened instead. */
export async function fhirGet(url: string, headers: Record<string, string>): Promise<FhirAnswer> {
  try {
    const response = await fetch(url, { headers: { accept: 'application/fhir+json', ...headers }, signal: AbortSignal.timeout(FHIR_TIMEOUT_MS) });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json };
  } catch (error) {
    return { error: networkReason(error) };
  }
}

export async function fhirAuthHeaders(fhir: Config['fhir']): Promise<Record<string, string>> {
  const { auth } = fhir;
  switch (auth.kind) {
    case 'none':
      return {};
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    case 'client_credentials':
    case 'private_key_jwt':
      return { authorization: `Bearer ${await createTokenSource(auth, { baseUrl: fhir.baseUrl, timeoutMs: FHIR_TIMEOUT_MS }).get()}` };
  }
}
