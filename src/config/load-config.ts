import { z } from 'zod';

// Env -> frozen Config, parsed once at start. Every variable of design.md "Environment" is here;
// an invalid value stops start-up with one line naming the variable, never echoing its value.

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const DEFAULT_AVARA_BASE_URL = 'https://api.avarasoftware.com';
const DEFAULT_ID_BASE = 'https://api.avarasoftware.com/fhir/sid';

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

const Env = z.object({
  AVARA_BASE_URL: httpUrl.default(DEFAULT_AVARA_BASE_URL),
  AVARA_API_KEY: z.string().regex(/^sk_[a-z]+_[0-9a-fA-F]{32}$/, 'must look like sk_live_<32 hex>'),
  AVARA_WEBHOOK_KEY: webhookKeys,
  FHIR_BASE_URL: httpUrl,
  FHIR_AUTH: z.enum(['none', 'basic', 'bearer', 'client_credentials']).default('none'),
  FHIR_CLIENT_ID: optionalText,
  FHIR_CLIENT_SECRET: optionalText,
  FHIR_TOKEN_URL: httpUrl.optional(),
  FHIR_BEARER_TOKEN: optionalText,
  FHIR_USERNAME: optionalText,
  FHIR_PASSWORD: optionalText,
  SQLITE_PATH: z.string().min(1).default('./data/avara-fhir-sync.db'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535, 8080),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  MRN_SYSTEM: z.string().min(1).default('urn:avara-fhir-sync:mrn'),
  WORKER_CONCURRENCY: int(1, 64, 4),
  WORKER_THREAD: bool.default(true),
  WORKER_NICE: int(0, 19, 10),
  POLL_INTERVAL_SECONDS: int(0, 86_400, 300),
  POLL_MAX_REQUESTS_PER_SECOND: z.coerce.number().positive().max(1000).default(5),
  MAX_ATTEMPTS: int(1, 1000, 12),
  RETRY_BASE_SECONDS: z.coerce.number().positive().max(86_400).default(10),
  RETRY_MAX_SECONDS: z.coerce.number().positive().max(7 * 86_400).default(3600),
  PDF_ALLOWED_HOSTS: commaList.optional(),
  LEASE_SECONDS: int(5, 86_400, 60),
  SHUTDOWN_GRACE_SECONDS: int(0, 3600, 20),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PATIENT_MODE: z.enum(['create', 'match']).default('create'),
  AVARA_IDENTIFIER_SYSTEM_BASE: z.string().min(1).default(DEFAULT_ID_BASE),
  ACCESSION_SYSTEM: z.string().min(1).optional(),
  ACCESSION_METADATA_KEY: z.string().min(1).default('accessionNumber'),
  STUDY_TIME_ZONE: timeZone.default('UTC'),
  DELIVER_EXTERNAL_STUDIES: bool.default(false),
  ORDERS_ENABLED: bool.default(false),
  ORDERS_POLL_INTERVAL_SECONDS: int(1, 86_400, 30),
  FHIR_WEBHOOK_SECRET: optionalText,
  VIEWER_STUDIES: bool.default(false),
  PRIOR_REPORTS_MAX: int(0, 50, 5),
  SYNC_WEBHOOK_BUDGET_MS: int(100, 60_000, 1500),
  WORKLIST_ALLOWED_AE_TITLES: commaList.optional(),
});
type Env = z.infer<typeof Env>;

export type FhirAuth =
  | { kind: 'none' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'client_credentials'; clientId: string; clientSecret: string; tokenUrl: string };

export interface Config {
  avara: { baseUrl: string; apiKey: string; webhookKeys: string[]; pdfAllowedHosts: string[] };
  fhir: { baseUrl: string; auth: FhirAuth };
  store: { sqlitePath: string };
  http: { host: string; port: number; adminToken: string | undefined };
  worker: {
    concurrency: number;
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
    leaseMs: number;
    /** How long stop() lets in-flight deliveries finish before giving their leases back. */
    shutdownGraceMs: number;
    patientMode: 'create' | 'match';
    deliverExternalStudies: boolean;
    /** Deliveries run in their own thread (own event loop), not beside the HTTP intake. */
    thread: boolean;
    /** How much lower the delivery thread's CPU priority is than the process's (Linux; 0 = same). */
    nice: number;
  };
  poll: { intervalMs: number; maxRequestsPerSecond: number };
  mapping: {
    identifierSystemBase: string;
    mrnSystem: string;
    accessionSystem: string;
    accessionMetadataKey: string;
    studyTimeZone: string;
  };
  orders: { enabled: boolean; pollIntervalMs: number; fhirWebhookSecret: string | undefined; viewerStudies: boolean; priorReportsMax: number };
  syncWebhooks: { budgetMs: number; worklistAllowedAeTitles: string[] | undefined };
  logLevel: Env['LOG_LEVEL'];
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  // Empty strings in .env files mean "not set", as in most dotenv tools.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = Env.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const message = issue.code === 'invalid_type' && present[name] === undefined ? 'is required' : issue.message;
    throw new ConfigError(`${name}: ${message}`);
  }
  return deepFreeze(toConfig(parsed.data));
}

function toConfig(e: Env): Config {
  if (e.RETRY_MAX_SECONDS < e.RETRY_BASE_SECONDS) {
    throw new ConfigError('RETRY_MAX_SECONDS: must not be smaller than RETRY_BASE_SECONDS');
  }
  return {
    avara: {
      baseUrl: e.AVARA_BASE_URL.replace(/\/+$/, ''),
      apiKey: e.AVARA_API_KEY,
      webhookKeys: e.AVARA_WEBHOOK_KEY,
      pdfAllowedHosts: e.PDF_ALLOWED_HOSTS ?? [new URL(e.AVARA_BASE_URL).hostname],
    },
    fhir: { baseUrl: e.FHIR_BASE_URL.replace(/\/+$/, ''), auth: toFhirAuth(e) },
    store: { sqlitePath: e.SQLITE_PATH },
    http: { host: e.HOST, port: e.PORT, adminToken: e.ADMIN_TOKEN },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      maxAttempts: e.MAX_ATTEMPTS,
      retryBaseMs: e.RETRY_BASE_SECONDS * 1000,
      retryMaxMs: e.RETRY_MAX_SECONDS * 1000,
      leaseMs: e.LEASE_SECONDS * 1000,
      shutdownGraceMs: e.SHUTDOWN_GRACE_SECONDS * 1000,
      patientMode: e.PATIENT_MODE,
      deliverExternalStudies: e.DELIVER_EXTERNAL_STUDIES,
      thread: e.WORKER_THREAD,
      nice: e.WORKER_NICE,
    },
    poll: { intervalMs: e.POLL_INTERVAL_SECONDS * 1000, maxRequestsPerSecond: e.POLL_MAX_REQUESTS_PER_SECOND },
    mapping: {
      identifierSystemBase: e.AVARA_IDENTIFIER_SYSTEM_BASE.replace(/\/+$/, ''),
      mrnSystem: e.MRN_SYSTEM,
      accessionSystem: e.ACCESSION_SYSTEM ?? `${e.AVARA_IDENTIFIER_SYSTEM_BASE.replace(/\/+$/, '')}/accession`,
      accessionMetadataKey: e.ACCESSION_METADATA_KEY,
      studyTimeZone: e.STUDY_TIME_ZONE,
    },
    orders: {
      enabled: e.ORDERS_ENABLED,
      pollIntervalMs: e.ORDERS_POLL_INTERVAL_SECONDS * 1000,
      fhirWebhookSecret: e.FHIR_WEBHOOK_SECRET,
      viewerStudies: e.VIEWER_STUDIES,
      priorReportsMax: e.PRIOR_REPORTS_MAX,
    },
    syncWebhooks: { budgetMs: e.SYNC_WEBHOOK_BUDGET_MS, worklistAllowedAeTitles: e.WORKLIST_ALLOWED_AE_TITLES },
    logLevel: e.LOG_LEVEL,
  };
}

function toFhirAuth(e: Env): FhirAuth {
  const need = (name: keyof Env): string => {
    const value = e[name];
    if (typeof value !== 'string') throw new ConfigError(`${name}: is required when FHIR_AUTH=${e.FHIR_AUTH}`);
    return value;
  };
  switch (e.FHIR_AUTH) {
    case 'none':
      return { kind: 'none' };
    case 'basic':
      return { kind: 'basic', username: need('FHIR_USERNAME'), password: need('FHIR_PASSWORD') };
    case 'bearer':
      return { kind: 'bearer', token: need('FHIR_BEARER_TOKEN') };
    case 'client_credentials':
      return {
        kind: 'client_credentials',
        clientId: need('FHIR_CLIENT_ID'),
        clientSecret: need('FHIR_CLIENT_SECRET'),
        tokenUrl: need('FHIR_TOKEN_URL'),
      };
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
