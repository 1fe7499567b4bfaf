import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_ENV, environmentHelp } from '../src/config/command-env.ts';
import { loadBackfillConfig, loadConfig, loadStoreConfig } from '../src/config/load-config.ts';
import { ENV_NAMES } from '../src/config/parse-env.ts';
import { runCli } from './support/run-cli.ts';

const VALID = {
  AVARA_API_KEY: 'sk_live_0123456789abcdef0123456789abcdef',
  AVARA_WEBHOOK_KEY: 'whsec_aOIOjHX2f9EZlBx83v4B6sCOuq9thgxS',
  FHIR_BASE_URL: 'http://127.0.0.1:8103/fhir/R4',
  MRN_SYSTEM: 'urn:oid:2.16.840.1.113883.19.5',
  STUDY_TIME_ZONE: 'America/Chicago',
};

/** The variables of design.md a loader looks at, recorded through a Proxy over a valid environment. */
function variablesRead(load: (env: NodeJS.ProcessEnv) => unknown): string[] {
  const read = new Set<string>();
  const names = new Set<string>(ENV_NAMES);
  load(new Proxy({ ...VALID } as NodeJS.ProcessEnv, {
    get(target, name) {
      if (typeof name === 'string' && names.has(name)) read.add(name);
      return Reflect.get(target, name);
    },
    ownKeys(target) {
      // Enumerating the environment would read every variable: count it as reading all.
      for (const name of names) read.add(name);
      return Reflect.ownKeys(target);
    },
  }));
  return [...read];
}

/** The names under "Environment" in a command's --help (required ones carry a `*`). */
function listedIn(help: string): string[] {
  const section = help.split(/\nEnvironment[^\n]*:\n/)[1] ?? '';
  return section.split(/[\s,]+/).filter(Boolean).map((name) => name.replace(/\*$/, ''));
}

/** `avara-fhir-sync <args> --help` as the operator sees it. */
async function help(args: string[]): Promise<string> {
  const result = await runCli([...args, '--help'], {});
  expect(result.code, args.join(' ')).toBe(0);
  return result.stdout;
}

describe('each command lists the environment it reads (issue 18, item 5)', () => {
  it('lists in --help every variable its loader reads, from the same table', () => {
    const loaders: Record<string, (env: NodeJS.ProcessEnv) => unknown> = { serve: loadConfig, backfill: loadBackfillConfig, status: loadStoreConfig };
    const readers: Record<string, string> = {
      serve: 'serve', doctor: 'serve', 'orders sync': 'serve', backfill: 'backfill',
      migrate: 'status', status: 'status', 'audit verify': 'status', 'audit export': 'status', retry: 'status', replay: 'status', 'orders status': 'status', 'orders retry': 'status',
    };
    for (const [command, loader] of Object.entries(readers)) {
      const read = variablesRead(loaders[loader]!);
      expect(read.length, command).toBeGreaterThan(0);
      expect(listedIn(environmentHelp(command)!), command).toEqual(expect.arrayContaining(read));
    }
    // The read-only commands are not stopped by a setting they never use: they read the database's alone.
    expect(variablesRead(loadStoreConfig)).toEqual(['SQLITE_PATH', 'DATABASE_URL']);
    expect(variablesRead(loadBackfillConfig)).not.toContain('FHIR_BASE_URL');
  });

  it('shows that section in the real --help of each kind of command, and every command has one', async () => {
    for (const command of ['serve', 'orders status', 'demo']) {
      expect(await help(command.split(' ')), command).toContain(environmentHelp(command)!);
    }
    // Every command the CLI has, as its own help lists them, has an entry in the table.
    const commandsOf = (text: string) => [...text.split('Commands:\n')[1]!.matchAll(/^ {2}([a-z0-9-]+)/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
    const top = commandsOf(await help([]));
    const names = [
      ...top.filter((name) => !['audit', 'orders'].includes(name)),
      ...commandsOf(await help(['audit'])).map((name) => `audit ${name}`),
      ...commandsOf(await help(['orders'])).map((name) => `orders ${name}`),
    ];
    expect(top).toEqual(expect.arrayContaining(['serve', 'backfill', 'audit', 'orders']));
    expect(names.filter((name) => !(name in COMMAND_ENV))).toEqual([]);
    expect(listedIn(environmentHelp('serve')!)).toEqual(expect.arrayContaining([...ENV_NAMES]));
  });
});

describe('configuration errors are reported all at once, on every command path (issue 18, item 5)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'afs-cli-env-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Missing required values, a value refused, and credentials and an engine that another value needs.
  const BROKEN = {
    AVARA_API_KEY: VALID.AVARA_API_KEY,
    AVARA_WEBHOOK_KEY: VALID.AVARA_WEBHOOK_KEY,
    FHIR_BASE_URL: VALID.FHIR_BASE_URL,
    PORT: 'eighty',
    FHIR_AUTH: 'basic',
    DELIVERY_TARGETS: 'fhir,hl7v2',
    RETRY_BASE_SECONDS: '60',
    RETRY_MAX_SECONDS: '10',
  };
  const EXPECTED = ['FHIR_USERNAME', 'FHIR_PASSWORD', 'PORT', 'MRN_SYSTEM', 'RETRY_MAX_SECONDS', 'STUDY_TIME_ZONE', 'HL7_HOST', 'HL7_PORT'];

  it('serve, orders sync and doctor name every missing or bad variable in one report', async () => {
    for (const args of [['serve'], ['orders', 'sync', 'ImagingStudy-1']]) {
      const result = await runCli(args, BROKEN);
      expect(result.code, args.join(' ')).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0]!.replace(/^avara-fhir-sync: /, '').split('; ').map((part) => part.split(':')[0]), args.join(' ')).toEqual(EXPECTED);
    }
    const doctor = await runCli(['doctor'], BROKEN);
    expect(doctor.code).toBe(1);
    const line = doctor.stdout.split('\n').find((l) => l.startsWith('FAIL configuration: '))!;
    for (const name of EXPECTED) expect(line).toContain(`${name}: `);
  });

  it('backfill names every one of its own variables at fault, and ignores the ones it does not read', async () => {
    const result = await runCli(['backfill', '--since', '2026-01-01'], { POLL_MAX_REQUESTS_PER_SECOND: '0', DELIVERY_TARGETS: 'smtp', PORT: 'eighty', SQLITE_PATH: join(dir, 'b.db') });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^avara-fhir-sync: AVARA_API_KEY: is required; POLL_MAX_REQUESTS_PER_SECOND: [^;]+; DELIVERY_TARGETS: [^;]+\n$/);
  });

  it('a database that cannot be opened is named by SQLITE_PATH and its path, for serve and migrate', async () => {
    const notADatabase = join(dir, 'notes.txt');
    writeFileSync(notADatabase, 'not a database, just text that is long enough to have a header\n'.repeat(4));
    const underAFile = join(notADatabase, 'sub', 'state.db');
    for (const [args, path] of [[['migrate'], underAFile], [['serve'], notADatabase]] as const) {
      const result = await runCli([...args], { ...VALID, SQLITE_PATH: path, PORT: '0' });
      expect(result.code, `${args.join(' ')} ${path}`).toBe(1);
      expect(result.stderr, `${args.join(' ')} ${path}`).toContain(`SQLITE_PATH: cannot open the database at ${path} (`);
    }
  });

  it('orders status and orders retry refuse a database that does not exist and create nothing', async () => {
    const missing = join(dir, 'typo', 'state.db');
    for (const args of [['orders', 'status'], ['orders', 'retry']]) {
      const result = await runCli(args, { SQLITE_PATH: missing });
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toContain(`no database at ${missing} (SQLITE_PATH)`);
    }
    expect(() => rmSync(join(dir, 'typo'))).toThrow(/ENOENT/);
  });
});
