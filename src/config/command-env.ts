import { ENV_NAMES, REQUIRED_BY_SERVE, type Env } from './parse-env.ts';

// Which variables each command reads: the loaders parse exactly these lists (load-config.ts), and
// each command's --help lists them from here, so the two cannot drift apart.

/** The database alone: the commands that read or change what serve recorded. */
export const STORE_ENV = ['SQLITE_PATH', 'DATABASE_URL'] as const satisfies readonly (keyof Env)[];

/** `backfill` reads Avara and enqueues; serve maps and delivers what it enqueued. */
export const BACKFILL_ENV = [
  'AVARA_BASE_URL', 'AVARA_API_KEY', 'PDF_ALLOWED_HOSTS', 'SQLITE_PATH', 'DATABASE_URL', 'POLL_INTERVAL_SECONDS', 'POLL_MAX_REQUESTS_PER_SECOND', 'DELIVERY_TARGETS',
] as const satisfies readonly (keyof Env)[];
export const BACKFILL_REQUIRED = ['AVARA_API_KEY'] as const;

interface CommandEnv {
  reads: readonly (keyof Env)[];
  required: readonly (keyof Env)[];
}

const SERVE: CommandEnv = { reads: ENV_NAMES, required: REQUIRED_BY_SERVE };
const STORE: CommandEnv = { reads: STORE_ENV, required: [] };
const NONE: CommandEnv = { reads: [], required: [] };

/** By the command's full name as typed (`orders sync`); every command of the CLI has an entry. */
export const COMMAND_ENV: Readonly<Record<string, CommandEnv>> = {
  serve: SERVE,
  doctor: SERVE,
  'orders sync': SERVE,
  backfill: { reads: BACKFILL_ENV, required: BACKFILL_REQUIRED },
  migrate: STORE,
  status: STORE,
  'audit verify': STORE,
  'audit export': STORE,
  retry: STORE,
  replay: STORE,
  'orders status': STORE,
  'orders retry': STORE,
  // Everything embedded and configured by options: the environment is not read.
  demo: NONE,
  sandbox: NONE,
  'fhir-server': NONE,
  'hl7-receiver': NONE,
};

/** The "Environment:" section of a command's --help: required ones first, names wrapped at ~100 columns. */
export function environmentHelp(command: string): string | undefined {
  const env = COMMAND_ENV[command];
  if (!env) return undefined;
  if (env.reads.length === 0) return '\nEnvironment: none (configured by its options)\n';
  const names = [...env.required.map((name) => `${name}*`), ...env.reads.filter((name) => !env.required.includes(name))];
  const lines: string[] = [];
  let line = '';
  for (const name of names) {
    if (line && line.length + name.length + 2 > 100) {
      lines.push(`${line},`);
      line = '';
    }
    line = line ? `${line}, ${name}` : `  ${name}`;
  }
  lines.push(line);
  const legend = env.required.length > 0 ? ' (* required; README "Configuration" says what each one does)' : ' (README "Configuration" says what it does)';
  return `\nEnvironment${legend}:\n${lines.join('\n')}\n`;
}
