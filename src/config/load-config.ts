import { ConfigError } from './config-error.ts';
import { toAdminOperators, type AdminOperator } from './admin-operators.ts';
import { parseEnv, parseOne, REQUIRED_BY_SERVE, type DeliveryTarget, type Env, type EnvWith } from './parse-env.ts';
import { BACKFILL_ENV, BACKFILL_REQUIRED } from './command-env.ts';
import { serveCrossChecks } from './serve-checks.ts';

export type { DeliveryTarget };

// Env -> frozen Config, parsed once at start, sliced by consumer. An invalid or missing value
// stops start-up with one line naming every variable at fault, never echoing a value.

export type FhirAuth =
  | { kind: 'none' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'client_credentials'; clientId: string; clientSecret: string; tokenUrl: string }
  | PrivateKeyJwtAuth;

/**
 * SMART Backend Services. The key file is read by src/fhir/load-signing-key.ts, not here: the
 * config stays plain strings so it can cross into the delivery thread.
 */
export interface PrivateKeyJwtAuth {
  kind: 'private_key_jwt';
  clientId: string;
  privateKeyFile: string;
  /** undefined: the key's RFC 7638 thumbprint. */
  keyId: string | undefined;
  scopes: string;
  /** undefined: read from FHIR_BASE_URL/.well-known/smart-configuration. */
  tokenUrl: string | undefined;
}

/** What every leased-job loop needs (queue/run-job-loop.ts `JobLoopSettings`). */
export interface JobSettings {
  concurrency: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  leaseMs: number;
  /** How long stop() lets attempts in flight finish before giving their leases back. */
  shutdownGraceMs: number;
}

/** The identifier systems and time zone of fhir-mapping.md. */
export interface MappingSettings {
  identifierSystemBase: string;
  mrnSystem: string;
  accessionSystem: string;
  accessionMetadataKey: string;
  studyTimeZone: string;
}

/** The `fhir-documents` target (fhir-mapping.md "Document target"). */
export interface DocumentSettings {
  content: 'pdf' | 'text';
  encounter: 'none' | 'search';
  /** Whether a lost write answer is looked for by identifier (else it stops as write_outcome_unknown). */
  identifierSearch: boolean;
}

export interface Hl7Settings {
  host: string;
  port: number;
  /** File paths, read when the target starts. */
  tls: { caFile: string | undefined; certFile: string | undefined; keyFile: string | undefined } | undefined;
  ackTimeoutMs: number;
  messageType: 'ORU^R01' | 'MDM^T02';
  sendingApplication: string;
  sendingFacility: string | undefined;
  receivingApplication: string | undefined;
  receivingFacility: string | undefined;
  processingId: 'P' | 'T' | 'D';
  mrnAssigningAuthority: string | undefined;
  patientClass: string;
  embedPdf: boolean;
}

/**
 * Sliced by consumer: each part is what one consumer takes as it is (`delivery` the delivery
 * worker, `orders` the order sync, `answers` the synchronous webhook answers, `store` the
 * database), so app.ts, the delivery thread and the commands pass slices through unchanged.
 */
export interface Config {
  avara: { baseUrl: string; apiKey: string; webhookKeys: string[]; pdfAllowedHosts: string[] };
  fhir: { baseUrl: string; auth: FhirAuth };
  /** databaseUrl (DATABASE_URL): PostgreSQL, and sqlitePath is ignored. */
  store: { sqlitePath: string; databaseUrl?: string };
  /** adminOperators: ADMIN_TOKEN (as `admin`) and ADMIN_TOKENS, token digests only. */
  http: { host: string; port: number; adminOperators: AdminOperator[]; trustProxy: string[] | false };
  delivery: JobSettings & {
    /** DELIVERY_TARGETS: one delivery per (report, target), each with its own loop. */
    targets: DeliveryTarget[];
    patientMode: 'create' | 'match';
    deliverExternalStudies: boolean;
    /** Deliveries run in their own thread (own event loop), not beside the HTTP intake. */
    thread: boolean;
    /** How much lower the delivery thread's CPU priority is than the process's (Linux; 0 = same). */
    nice: number;
    mapping: MappingSettings;
    /** The `hl7v2` target's interface engine and message settings; undefined when it is not a target. */
    hl7: Hl7Settings | undefined;
    /** Read by the `fhir-documents` target only; defaults when it is not a target. */
    documents: DocumentSettings;
  };
  /** The reconciliation poller and backfill: what they enqueue goes to every target. */
  poll: {
    intervalMs: number;
    maxRequestsPerSecond: number;
    targets: DeliveryTarget[];
    /** POLL_SINCE as unix ms (UTC midnight): reaches before the first start; undefined = the first start alone. */
    sinceMs: number | undefined;
  };
  orders: JobSettings & {
    enabled: boolean;
    pollIntervalMs: number;
    fhirWebhookSecret: string | undefined;
    viewerStudies: boolean;
    priorReportsMax: number;
    mrnSystem: string;
    studyTimeZone: string;
    /** Marks the ImagingStudies we wrote ourselves, which are not orders. */
    avaraStudyIdSystem: string;
  };
  answers: { budgetMs: number; worklistAllowedAeTitles: string[] | undefined; mrnSystem: string; studyTimeZone: string; priorReportsMax: number };
  logLevel: Env['LOG_LEVEL'];
}

/** `serve`'s configuration; also what doctor, `orders sync` and the demo run on. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  return deepFreeze(toConfig(parseEnv(env, REQUIRED_BY_SERVE, { checks: serveCrossChecks })));
}

/** The database alone: what the read-only commands (status, retry, audit, ...) open. */
export function loadStoreConfig(env: NodeJS.ProcessEnv): Config['store'] {
  return deepFreeze(toStoreSlice({ SQLITE_PATH: parseOne(env, 'SQLITE_PATH'), DATABASE_URL: parseOne(env, 'DATABASE_URL') }));
}

export interface BackfillConfig {
  avara: Pick<Config['avara'], 'baseUrl' | 'apiKey' | 'pdfAllowedHosts'>;
  store: Config['store'];
  poll: Config['poll'];
}

/**
 * `backfill` only reads Avara and enqueues; `serve` maps and delivers what it enqueued. So it
 * needs the Avara key, not the FHIR server, the webhook key or the mapping settings.
 */
export function loadBackfillConfig(env: NodeJS.ProcessEnv): BackfillConfig {
  const e = parseEnv(env, BACKFILL_REQUIRED, { only: BACKFILL_ENV });
  return deepFreeze({ avara: toAvaraReadSlice(e), store: toStoreSlice(e), poll: toPollSlice(e) });
}

type ServeEnv = EnvWith<(typeof REQUIRED_BY_SERVE)[number]>;

function toAvaraReadSlice(e: EnvWith<'AVARA_API_KEY'>): BackfillConfig['avara'] {
  return {
    baseUrl: e.AVARA_BASE_URL.replace(/\/+$/, ''),
    apiKey: e.AVARA_API_KEY,
    pdfAllowedHosts: e.PDF_ALLOWED_HOSTS ?? [new URL(e.AVARA_BASE_URL).hostname],
  };
}

function toStoreSlice(e: Pick<Env, 'SQLITE_PATH' | 'DATABASE_URL'>): Config['store'] {
  return { sqlitePath: e.SQLITE_PATH, ...(e.DATABASE_URL === undefined ? {} : { databaseUrl: e.DATABASE_URL }) };
}

function toPollSlice(e: Env): Config['poll'] {
  return {
    intervalMs: e.POLL_INTERVAL_SECONDS * 1000,
    maxRequestsPerSecond: e.POLL_MAX_REQUESTS_PER_SECOND,
    targets: e.DELIVERY_TARGETS,
    sinceMs: e.POLL_SINCE === undefined ? undefined : Date.parse(`${e.POLL_SINCE}T00:00:00Z`),
  };
}

function toConfig(e: ServeEnv): Config {
  const jobs: JobSettings = {
    concurrency: e.WORKER_CONCURRENCY,
    maxAttempts: e.MAX_ATTEMPTS,
    retryBaseMs: e.RETRY_BASE_SECONDS * 1000,
    retryMaxMs: e.RETRY_MAX_SECONDS * 1000,
    leaseMs: e.LEASE_SECONDS * 1000,
    shutdownGraceMs: e.SHUTDOWN_GRACE_SECONDS * 1000,
  };
  const identifierSystemBase = e.AVARA_IDENTIFIER_SYSTEM_BASE.replace(/\/+$/, '');
  const { MRN_SYSTEM: mrnSystem, STUDY_TIME_ZONE: studyTimeZone, PRIOR_REPORTS_MAX: priorReportsMax } = e;
  return {
    avara: { ...toAvaraReadSlice(e), webhookKeys: e.AVARA_WEBHOOK_KEY },
    fhir: { baseUrl: e.FHIR_BASE_URL.replace(/\/+$/, ''), auth: toFhirAuth(e) },
    store: toStoreSlice(e),
    http: { host: e.HOST, port: e.PORT, adminOperators: toAdminOperators(e.ADMIN_TOKEN, e.ADMIN_TOKENS), trustProxy: e.TRUST_PROXY },
    delivery: {
      ...jobs,
      targets: e.DELIVERY_TARGETS,
      patientMode: e.PATIENT_MODE,
      deliverExternalStudies: e.DELIVER_EXTERNAL_STUDIES,
      thread: e.WORKER_THREAD,
      nice: e.WORKER_NICE,
      mapping: {
        identifierSystemBase,
        mrnSystem,
        accessionSystem: e.ACCESSION_SYSTEM ?? `${identifierSystemBase}/accession`,
        accessionMetadataKey: e.ACCESSION_METADATA_KEY,
        studyTimeZone,
      },
      hl7: e.DELIVERY_TARGETS.includes('hl7v2') ? toHl7Settings(e) : undefined,
      documents: { content: e.FHIR_DOCUMENT_CONTENT, encounter: e.FHIR_DOCUMENT_ENCOUNTER, identifierSearch: e.FHIR_DOCUMENT_IDENTIFIER_SEARCH },
    },
    poll: toPollSlice(e),
    orders: {
      ...jobs,
      enabled: e.ORDERS_ENABLED,
      pollIntervalMs: e.ORDERS_POLL_INTERVAL_SECONDS * 1000,
      fhirWebhookSecret: e.FHIR_WEBHOOK_SECRET,
      viewerStudies: e.VIEWER_STUDIES,
      priorReportsMax,
      mrnSystem,
      studyTimeZone,
      avaraStudyIdSystem: `${identifierSystemBase}/study-id`,
    },
    answers: { budgetMs: e.SYNC_WEBHOOK_BUDGET_MS, worklistAllowedAeTitles: e.WORKLIST_ALLOWED_AE_TITLES, mrnSystem, studyTimeZone, priorReportsMax },
    logLevel: e.LOG_LEVEL,
  };
}

// HL7_HOST, HL7_PORT and the TLS pairs were checked by serveCrossChecks with everything else.
function toHl7Settings(e: ServeEnv): Hl7Settings {
  return {
    host: e.HL7_HOST!,
    port: e.HL7_PORT!,
    tls: e.HL7_TLS ? { caFile: e.HL7_TLS_CA_FILE, certFile: e.HL7_TLS_CERT_FILE, keyFile: e.HL7_TLS_KEY_FILE } : undefined,
    ackTimeoutMs: e.HL7_ACK_TIMEOUT_SECONDS * 1000,
    messageType: e.HL7_MESSAGE_TYPE,
    sendingApplication: e.HL7_SENDING_APPLICATION,
    sendingFacility: e.HL7_SENDING_FACILITY,
    receivingApplication: e.HL7_RECEIVING_APPLICATION,
    receivingFacility: e.HL7_RECEIVING_FACILITY,
    processingId: e.HL7_PROCESSING_ID,
    mrnAssigningAuthority: e.HL7_MRN_ASSIGNING_AUTHORITY,
    patientClass: e.HL7_PATIENT_CLASS,
    embedPdf: e.HL7_EMBED_PDF,
  };
}

function toFhirAuth(e: ServeEnv): FhirAuth {
  // serveCrossChecks already named every missing credential; this only narrows the types.
  const need = (name: keyof Env): string => {
    const value = e[name];
    if (typeof value !== 'string') throw new ConfigError(`${name}: is required when FHIR_AUTH=${e.FHIR_AUTH}`, [name]);
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
    case 'private_key_jwt':
      return {
        kind: 'private_key_jwt',
        clientId: need('FHIR_CLIENT_ID'),
        privateKeyFile: need('FHIR_PRIVATE_KEY_FILE'),
        keyId: e.FHIR_KEY_ID,
        scopes: e.FHIR_SCOPES,
        tokenUrl: e.FHIR_TOKEN_URL,
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
