import { z } from 'zod';
import { ConfigError } from './config-error.ts';
import { adminTokensSchema } from './admin-operators.ts';

// Every variable of design.md "Environment". The ones without a safe default are optional here;
// each command states which of them it needs (REQUIRED_BY_SERVE, ...), so a read-only command is
// not stopped by a setting it never uses.

const DEFAULT_AVARA_BASE_URL = 'https://api.avarasoftware.com';
const DEFAULT_ID_BASE = 'https://api.avarasoftware.com/fhir/sid';
// design.md: what a report delivery and the patient lookup need, and nothing more.
const DEFAULT_FHIR_SCOPES = 'system/Patient.read system/DocumentReference.write system/DiagnosticReport.write system/ImagingStudy.write system/Practitioner.read';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const commaList = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));
const optionalText = z.string().min(1).optional();
const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const httpUrl = z.url({ protocol: /^https?$/ });

const webhookKeys = commaList.pipe(
  z.array(z.string().regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'each key must be whsec_ followed by base64')).min(1),
);

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Europe/Berlin');

/** Where every signed report goes (design.md "Delivery targets"). */
export const DELIVERY_TARGETS = ['fhir', 'fhir-documents', 'hl7v2'] as const;
export type DeliveryTarget = (typeof DELIVERY_TARGETS)[number];

const Env = z.object({
  AVARA_BASE_URL: httpUrl.default(DEFAULT_AVARA_BASE_URL),
  AVARA_API_KEY: z.string().regex(/^sk_[a-z]+_[0-9a-fA-F]{32}$/, 'must look like sk_live_<32 hex>').optional(),
  AVARA_WEBHOOK_KEY: webhookKeys.optional(),
  FHIR_BASE_URL: httpUrl.optional(),
  FHIR_AUTH: z.enum(['none', 'basic', 'bearer', 'client_credentials', 'private_key_jwt']).default('none'),
  FHIR_CLIENT_ID: optionalText,
  FHIR_CLIENT_SECRET: optionalText,
  FHIR_TOKEN_URL: httpUrl.optional(),
  FHIR_BEARER_TOKEN: optionalText,
  FHIR_USERNAME: optionalText,
  FHIR_PASSWORD: optionalText,
  FHIR_PRIVATE_KEY_FILE: optionalText,
  FHIR_KEY_ID: optionalText,
  FHIR_SCOPES: z.string().trim().min(1).default(DEFAULT_FHIR_SCOPES),
  SQLITE_PATH: z.string().min(1).default('./data/avara-fhir-sync.db'),
  // PostgreSQL for several replicas on one database (design.md "Several replicas"); SQLITE_PATH is then ignored.
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535, 8080),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // One token per operator (name:token,...), so each action is recorded with who took it.
  ADMIN_TOKENS: adminTokensSchema.optional(),
  // Addresses of the TLS proxy in front (express `trust proxy`: IPs, CIDRs, loopback, uniquelocal);
  // only their X-Forwarded-For/-Proto are believed. Never "true": any client could claim https.
  TRUST_PROXY: z.string().trim().transform((v) => (v === '' || v === 'false' ? false as const : v.split(',').map((a) => a.trim()).filter(Boolean))).default(false),
  // No default: an invented system matches no chart, so every patient would be duplicated (create)
  // or never found (match). Only the EHR team knows the right one.
  MRN_SYSTEM: z.string().min(1).optional(),
  WORKER_CONCURRENCY: int(1, 64, 4),
  WORKER_THREAD: bool.default(true),
  WORKER_NICE: int(0, 19, 10),
  POLL_INTERVAL_SECONDS: int(0, 86_400, 300),
  POLL_MAX_REQUESTS_PER_SECOND: z.coerce.number().positive().max(1000).default(5),
  // The poller's reach into history before the database's first start; a UTC day, as backfill takes.
  POLL_SINCE: z.string().refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v), 'must be a date as YYYY-MM-DD (UTC)').optional(),
  MAX_ATTEMPTS: int(1, 1000, 12),
  RETRY_BASE_SECONDS: z.coerce.number().positive().max(86_400).default(10),
  RETRY_MAX_SECONDS: z.coerce.number().positive().max(7 * 86_400).default(3600),
  PDF_ALLOWED_HOSTS: commaList.optional(),
  LEASE_SECONDS: int(5, 86_400, 60),
  SHUTDOWN_GRACE_SECONDS: int(0, 3600, 20),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // design.md: an EHR registers its own patients; creating them is for stores that are their own index.
  PATIENT_MODE: z.enum(['create', 'match']).default('match'),
  AVARA_IDENTIFIER_SYSTEM_BASE: z.string().min(1).default(DEFAULT_ID_BASE),
  ACCESSION_SYSTEM: z.string().min(1).optional(),
  ACCESSION_METADATA_KEY: z.string().min(1).default('accessionNumber'),
  // No default: a wrong zone shifts every study time by hours, silently.
  STUDY_TIME_ZONE: timeZone.optional(),
  DELIVER_EXTERNAL_STUDIES: bool.default(false),
  ORDERS_ENABLED: bool.default(false),
  ORDERS_POLL_INTERVAL_SECONDS: int(1, 86_400, 30),
  FHIR_WEBHOOK_SECRET: optionalText,
  VIEWER_STUDIES: bool.default(false),
  PRIOR_REPORTS_MAX: int(0, 50, 5),
  SYNC_WEBHOOK_BUDGET_MS: int(100, 60_000, 1500),
  WORKLIST_ALLOWED_AE_TITLES: commaList.optional(),
  DELIVERY_TARGETS: commaList.pipe(z.array(z.enum(DELIVERY_TARGETS, {
    error: () => 'each target must be fhir, fhir-documents or hl7v2',
  })).min(1).refine((targets) => new Set(targets).size === targets.length, 'names a target twice')).default(['fhir']),
  FHIR_DOCUMENT_CONTENT: z.enum(['pdf', 'text']).default('pdf'),
  FHIR_DOCUMENT_ENCOUNTER: z.enum(['none', 'search']).default('none'),
  FHIR_DOCUMENT_IDENTIFIER_SEARCH: bool.default(true),
  HL7_HOST: optionalText,
  HL7_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  HL7_TLS: bool.default(false),
  HL7_TLS_CA_FILE: optionalText,
  HL7_TLS_CERT_FILE: optionalText,
  HL7_TLS_KEY_FILE: optionalText,
  HL7_MESSAGE_TYPE: z.enum(['ORU^R01', 'MDM^T02']).default('ORU^R01'),
  HL7_SENDING_APPLICATION: z.string().min(1).default('AVARA'),
  HL7_SENDING_FACILITY: optionalText,
  HL7_RECEIVING_APPLICATION: optionalText,
  HL7_RECEIVING_FACILITY: optionalText,
  HL7_PROCESSING_ID: z.enum(['P', 'T', 'D']).default('P'),
  HL7_MRN_ASSIGNING_AUTHORITY: optionalText,
  HL7_PATIENT_CLASS: z.string().min(1).max(1, 'must be one HL7 table 0004 code such as O, I or E').default('O'),
  HL7_EMBED_PDF: bool.default(true),
  HL7_ACK_TIMEOUT_SECONDS: int(1, 600, 30),
});
export type Env = z.infer<typeof Env>;

/** The variables some command cannot run without. */
export type Needed = 'AVARA_API_KEY' | 'AVARA_WEBHOOK_KEY' | 'FHIR_BASE_URL' | 'MRN_SYSTEM' | 'STUDY_TIME_ZONE';
export type EnvWith<K extends Needed> = Env & { [P in K]-?: NonNullable<Env[P]> };

/** `serve` and everything that maps or delivers (doctor, `orders sync`, the delivery thread's config). */
export const REQUIRED_BY_SERVE = ['AVARA_API_KEY', 'AVARA_WEBHOOK_KEY', 'FHIR_BASE_URL', 'MRN_SYSTEM', 'STUDY_TIME_ZONE'] as const;

// A missing value has no default to fall back on; say what to ask for, not just that it is missing.
const MISSING_HINTS: Partial<Record<Needed, string>> = {
  MRN_SYSTEM: "the identifier system of the EHR's MRNs: ask the EHR team",
  STUDY_TIME_ZONE: "the IANA zone of Avara's studyDate/studyTime, e.g. America/New_York",
};

/** One variable alone, for commands that need nothing else (the read-only ones: a wrong key elsewhere must not stop them). */
export function parseOne<N extends keyof Env>(env: NodeJS.ProcessEnv, name: N): Env[N] {
  const value = env[name] === '' ? undefined : env[name];
  const parsed = Env.shape[name].safeParse(value);
  if (!parsed.success) throw new ConfigError(`${name}: ${parsed.error.issues[0]?.message ?? 'is invalid'}`, [name]);
  return parsed.data as Env[N];
}

/** A problem found between variables (a credential the chosen FHIR_AUTH needs): its name and why. */
export type CrossCheck = (parsed: Partial<Env>) => Iterable<readonly [name: keyof Env, why: string]>;

/** Every variable of design.md "Environment", in the order .env.example lists them. */
export const ENV_NAMES = Object.keys(Env.shape) as (keyof Env)[];

/**
 * Validates the command's variables (`only`; every one by default) and names every variable at
 * fault in one line, so a first start shows all that is missing at once: required ones missing,
 * values refused, and what `checks` find between the values that did parse. Never echoes a value:
 * it may be a key. Variables outside `only` are not read, so a wrong one cannot stop the command.
 */
export function parseEnv<K extends Needed>(
  env: NodeJS.ProcessEnv, required: readonly K[], options: { only?: readonly (keyof Env)[]; checks?: CrossCheck } = {},
): EnvWith<K> {
  const problems = new Map<string, string>();
  const parsed: Record<string, unknown> = {};
  for (const name of options.only ?? ENV_NAMES) {
    // Empty strings in .env files mean "not set", as in most dotenv tools.
    const value = env[name] === '' ? undefined : env[name];
    if (value === undefined && (required as readonly string[]).includes(name)) {
      const hint = MISSING_HINTS[name as Needed];
      problems.set(name, hint ? `is required (${hint})` : 'is required');
      continue;
    }
    const result = Env.shape[name].safeParse(value);
    if (result.success) parsed[name] = result.data;
    else problems.set(name, result.error.issues[0]?.message ?? 'is invalid');
  }
  for (const [name, why] of options.checks?.(parsed as Partial<Env>) ?? []) {
    if (!problems.has(name)) problems.set(name, why);
  }
  if (problems.size > 0) {
    const names = [...problems.keys()].sort((a, b) => ENV_NAMES.indexOf(a as keyof Env) - ENV_NAMES.indexOf(b as keyof Env));
    throw new ConfigError(names.map((name) => `${name}: ${problems.get(name)}`).join('; '), names);
  }
  return parsed as EnvWith<K>;
}
