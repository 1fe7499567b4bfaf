import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOne } from '../src/config/parse-env.ts';
import { startStandIns, type StandIns } from './support/start-stand-ins.ts';
import { waitFor } from './support/wait-for.ts';

// The packaging run as its process manager would run it. PID 1 here is not systemd and the
// machine may have no container runtime (or no base image), so each file is parsed for what the
// manager reads and its command is started the same way: the environment it sets, the user it
// drops to (setpriv), its working directory, the signal it stops with.
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const UNIT = join(ROOT, 'deploy/avara-fhir-sync.service');
const INSTALL_DIR = '/opt/avara-fhir-sync';
const ADMIN_TOKENS = 'ops:packaging-test-token-0001';

describe('systemd unit deploy/avara-fhir-sync.service', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const one = (key: string) => {
    const values = unit.get(key) ?? [];
    expect(values, key).toHaveLength(1);
    return values[0]!;
  };

  it('passes systemd-analyze verify without a warning, which does report a bad line', () => {
    const clean = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    expect(clean.error, 'systemd-analyze (Debian package systemd) must be installed; .ci/run installs it').toBeUndefined();
    expect(clean.status).toBe(0);
    expect(`${clean.stdout}${clean.stderr}`.trim()).toBe('');
    const dir = mkdtempSync(join(tmpdir(), 'unit-'));
    try {
      const broken = join(dir, 'avara-fhir-sync.service');
      writeFileSync(broken, readFileSync(UNIT, 'utf8').replace('KillSignal=SIGTERM', 'KillSignal=SIGNOPE'));
      expect(spawnSync('systemd-analyze', ['verify', broken], { encoding: 'utf8' }).stderr).toMatch(/signal/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs as its own user, restarts on failure, is hardened, may write only where the database is, and outwaits the shutdown grace', () => {
    expect(one('User')).not.toMatch(/^(root|0)$/);
    expect(one('Restart')).toBe('on-failure');
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('EnvironmentFile')).toMatch(/^\/etc\//);
    const sqlitePath = environmentOf(unit).SQLITE_PATH!;
    expect(one('ReadWritePaths').split(/\s+/)).toContain(dirname(sqlitePath));
    // SHUTDOWN_GRACE_SECONDS' default plus time to close the store and the listener.
    expect(seconds(one('TimeoutStopSec'))).toBeGreaterThan(parseOne({}, 'SHUTDOWN_GRACE_SECONDS') + 5);
  });

  describe('ExecStart, started as the unit starts it', () => {
    let standIns: StandIns;
    let stateDir: string;
    beforeAll(async () => {
      standIns = await startStandIns({ dirPrefix: 'afs-unit-' });
      stateDir = mkdtempSync(join(tmpdir(), 'afs-state-'));
    });
    afterAll(async () => {
      await standIns?.stop();
      rmSync(stateDir, { recursive: true, force: true });
    });

    it('serves as an unprivileged user with the unit environment and env file, writes its database in the state directory, and exits 0 on SIGTERM', async () => {
      // StateDirectory=: owned by the service user, mode 0750.
      const uid = 10_001; // the image's user too: one tsx compile cache for both tests
      chownSync(stateDir, uid, uid);
      chmodSync(stateDir, 0o750);
      const port = await freePort();
      const envFile = { ...standIns.serveEnv(), HOST: '127.0.0.1', PORT: String(port), POLL_INTERVAL_SECONDS: '0', ADMIN_TOKENS };
      delete (envFile as Record<string, string>).SQLITE_PATH; // the unit's own setting decides
      const env = { PATH: process.env.PATH ?? '', ...relocate(environmentOf(unit), stateDir), ...envFile };
      const [program, ...args] = relocate({ cmd: one('ExecStart') }, stateDir).cmd!.split(/\s+/);
      const child = spawn('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--no-new-privs', '--', program!, ...args], {
        cwd: relocate({ dir: one('WorkingDirectory') }, stateDir).dir, env, stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output: string[] = [];
      child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await waitFor('the unit\'s /readyz', async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, { timeoutMs: 45_000, explain: () => output.join('').slice(-2000) });
        const database = join(stateDir, 'avara-fhir-sync.db');
        expect(existsSync(database)).toBe(true);
        expect(statSync(database).uid).toBe(uid);
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited, output.join('').slice(-2000)).toBe(0);
    });
  });
});

describe('Dockerfile', () => {
  const stages = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split(/^FROM /m).slice(1);
  const runtime = parseDockerfile(stages.at(-1)!);

  it('builds in one stage with the tools better-sqlite3 needs and runs in another as a non-root user, node itself as PID 1', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0]).toMatch(/python3/);
    expect(stages[0]).toMatch(/\bg\+\+/);
    expect(stages[0]).toMatch(/npm ci/);
    expect(stages.at(-1)).not.toMatch(/g\+\+|python3/);
    expect(runtime.get('USER')?.[0]).toMatch(/^(?!root$|0$)\S+$/);
    expect(JSON.parse(runtime.get('ENTRYPOINT')![0]!)).toEqual(['node', 'src/cli-entry.mjs']);
    expect(JSON.parse(runtime.get('CMD')![0]!)).toEqual(['serve']);
    const env = dockerEnv(runtime);
    expect(env.HOST).toBe('0.0.0.0');
    expect(runtime.get('EXPOSE')).toEqual([env.PORT]);
    const volume = JSON.parse(runtime.get('VOLUME')![0]!) as string[];
    expect(volume).toContain(dirname(env.SQLITE_PATH!));
  });

  it('leaves the database, secrets, dependencies and history out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['.git', 'node_modules', 'data', '.env', '*.db']) expect(ignored, entry).toContain(entry);
  });

  describe('ENTRYPOINT and HEALTHCHECK, run as the image runs them', () => {
    let standIns: StandIns;
    let volume: string;
    beforeAll(async () => {
      standIns = await startStandIns({ dirPrefix: 'afs-image-' });
      volume = mkdtempSync(join(tmpdir(), 'afs-volume-'));
      chownSync(volume, 10_001, 10_001);
    });
    afterAll(async () => {
      await standIns?.stop();
      rmSync(volume, { recursive: true, force: true });
    });

    it('serves on HOST=0.0.0.0, answers the HEALTHCHECK, and exits 0 on docker stop\'s SIGTERM', async () => {
      const port = await freePort();
      const imageEnv = { ...dockerEnv(runtime), PORT: String(port), SQLITE_PATH: join(volume, 'avara-fhir-sync.db') };
      const env = { PATH: process.env.PATH ?? '', ...standIns.serveEnv(), ...imageEnv, POLL_INTERVAL_SECONDS: '0', ADMIN_TOKENS };
      const command = [...JSON.parse(runtime.get('ENTRYPOINT')![0]!), ...JSON.parse(runtime.get('CMD')![0]!)] as string[];
      const child = spawn('setpriv', ['--reuid=10001', '--regid=10001', '--clear-groups', '--', ...command], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const output: string[] = [];
      child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const healthcheck = () => {
        const [program, ...args] = JSON.parse(/CMD (\[.*\])\s*$/.exec(runtime.get('HEALTHCHECK')![0]!)![1]!) as string[];
        return spawnSync(program!, args, { env: { PATH: process.env.PATH ?? '', PORT: String(port) } }).status;
      };
      try {
        await waitFor('the image\'s /healthz', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok, { timeoutMs: 45_000, explain: () => output.join('').slice(-2000) });
        expect(healthcheck()).toBe(0);
        // Bound to every interface, as a published port needs; the admin surfaces need the token there.
        expect((await fetch(`http://127.0.0.1:${port}/api/deliveries`)).status).toBe(401);
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited, output.join('').slice(-2000)).toBe(0);
      expect(healthcheck()).toBe(1);
    });
  });
});

/** key -> values of a unit file (continuation lines joined, comments dropped). */
function parseUnit(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) map.set(match[1]!, [...(map.get(match[1]!) ?? []), match[2]!.trim()]);
  }
  return map;
}

function environmentOf(unit: Map<string, string[]>): Record<string, string> {
  return Object.fromEntries((unit.get('Environment') ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

// The unit's fixed paths, moved onto this checkout and a temporary state directory.
function relocate(values: Record<string, string>, stateDir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.replaceAll(INSTALL_DIR, ROOT.replace(/\/$/, '')).replaceAll('/var/lib/avara-fhir-sync', stateDir)]));
}

function seconds(value: string): number {
  const match = /^(\d+)(s|min)?$/.exec(value);
  if (!match) throw new Error(`not a time span this test reads: ${value}`);
  return Number(match[1]) * (match[2] === 'min' ? 60 : 1);
}

/** Instruction -> arguments of one Dockerfile stage (continuation lines joined, comments dropped). */
function parseDockerfile(stage: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const lines = stage.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ').split('\n');
  for (const line of lines) {
    const match = /^([A-Z]+)\s+(.*)$/.exec(line.trim());
    if (match) map.set(match[1]!, [...(map.get(match[1]!) ?? []), match[2]!.trim()]);
  }
  return map;
}

function dockerEnv(stage: Map<string, string[]>): Record<string, string> {
  return Object.fromEntries((stage.get('ENV') ?? []).flatMap((args) => [...args.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
