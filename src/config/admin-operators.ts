import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from './config-error.ts';

/** Who ADMIN_TOKEN signs in as: it predates named operators and keeps working as this one. */
export const ADMIN_TOKEN_OPERATOR = 'admin';

/**
 * An operator and the SHA-256 of their token (hex). Only the digest is kept in the config, so a
 * heap dump or a config printed by mistake shows no token, and comparing digests takes the same
 * time whatever the length offered.
 */
export interface AdminOperator {
  name: string;
  tokenSha256: string;
}

const OPERATOR_NAME = /^[A-Za-z0-9._-]+$/;
const MIN_TOKEN_CHARS = 16;

/**
 * ADMIN_TOKENS: `name:token` pairs, comma-separated. The messages name an entry by its position
 * or its operator, never by its text: a malformed entry may be a bare token.
 */
export const adminTokensSchema = z.string().transform((value, ctx) => {
  const operators: { name: string; token: string }[] = [];
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean);
  const refuse = (message: string) => ctx.addIssue({ code: 'custom', message });
  if (entries.length === 0) refuse('names no operator; give name:token pairs, comma-separated');
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const name = entry.slice(0, Math.max(colon, 0)).trim();
    const token = entry.slice(colon + 1).trim();
    if (colon < 1 || !OPERATOR_NAME.test(name)) refuse(`entry ${index + 1} must be name:token, the name made of letters, digits, ".", "_" or "-"`);
    else if (token.length < MIN_TOKEN_CHARS) refuse(`the token of ${name} must be at least ${MIN_TOKEN_CHARS} characters`);
    else if (operators.some((o) => o.name === name)) refuse(`names operator ${name} twice`);
    else if (operators.some((o) => o.token === token)) refuse(`gives ${name} the same token as ${operators.find((o) => o.token === token)!.name}: a token must say who used it`);
    else operators.push({ name, token });
  });
  return operators;
});

/** Why ADMIN_TOKENS cannot stand beside ADMIN_TOKEN, or undefined: serve's cross-checks report it with every other problem. */
export function adminTokensClash(adminToken: string | undefined, adminTokens: readonly { name: string; token: string }[] | undefined): string | undefined {
  if (adminToken === undefined) return undefined;
  const clash = adminTokens?.find((o) => o.name === ADMIN_TOKEN_OPERATOR || o.token === adminToken);
  if (!clash) return undefined;
  const why = clash.name === ADMIN_TOKEN_OPERATOR ? `names operator ${ADMIN_TOKEN_OPERATOR}, which is who ADMIN_TOKEN signs in as` : `gives ${clash.name} the same token as ADMIN_TOKEN`;
  return `${why}; keep one of them`;
}

/** ADMIN_TOKEN (as operator `admin`) and ADMIN_TOKENS together, as digests. */
export function toAdminOperators(adminToken: string | undefined, adminTokens: { name: string; token: string }[] | undefined): AdminOperator[] {
  const clash = adminTokensClash(adminToken, adminTokens);
  if (clash) throw new ConfigError(`ADMIN_TOKENS: ${clash}`, ['ADMIN_TOKENS']);
  const operators = [...(adminToken === undefined ? [] : [{ name: ADMIN_TOKEN_OPERATOR, token: adminToken }]), ...(adminTokens ?? [])];
  return operators.map(({ name, token }) => ({ name, tokenSha256: sha256Hex(token) }));
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
