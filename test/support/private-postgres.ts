import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './serve-child.ts';

const run = promisify(execFile);

/**
 * A PostgreSQL server of one test's own, for tests that stop and start the server (the shared
 * one on 5432 is never restarted). PostgreSQL refuses to run as root: as root, its commands run
 * as the `postgres` OS user. Data, socket and log live in one temp directory; trust auth on
 * 127.0.0.1 at a free port. fsync off: a test's data need not survive a power cut, and a crash of
 * the server alone still loses nothing answered (synchronous_commit stays on: a commit's WAL is
 * written before it is answered).
 */
export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url: string;
  port: number;
  /** pg_ctl stop: 'fast' ends sessions (57P01), 'immediate' drops them like a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP to the server and its backends: a host that takes connections and never answers. */
  freeze(): void;
  /** SIGCONT: the frozen server carries on. */
  thaw(): void;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** Stops it if it runs and deletes its directory; safe to call twice. */
  destroy(): Promise<void>;
}

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const DATABASE = 'afs';

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'afs-private-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
  const as = (command: string, args: string[]) => asRoot ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, command), ...args]] as const : [join(PG_BIN, command), args] as const;
  const pgCtl = (args: string[]) => {
    const [file, argv] = as('pg_ctl', ['-D', data, ...args]);
    return run(file, [...argv], { timeout: 60_000 });
  };
  const port = await freePort();
  let running = false;
  let destroyed = false;
  // A test process that dies before its cleanup still takes the server down with it.
  const onExit = () => {
    if (!running) return;
    const [file, argv] = as('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    try {
      execFileSync(file, [...argv], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // Already gone.
    }
  };
  process.once('exit', onExit);
  const signalServer = (signal: NodeJS.Signals) => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' }).split('\n').map(Number).filter((pid) => pid > 0);
    for (const pid of [postmaster, ...children]) process.kill(pid, signal);
  };

  const server: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/${DATABASE}`,
    port,
    async start() {
      await pgCtl(['-w', '-t', '60', '-l', logFile, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`, 'start']);
      running = true;
    },
    async stop(mode = 'fast') {
      await pgCtl(['-w', '-t', '60', '-m', mode, 'stop']);
      running = false;
    },
    freeze: () => signalServer('SIGSTOP'),
    thaw: () => signalServer('SIGCONT'),
    log() {
      try {
        return execFileSync('tail', ['-n', '40', logFile], { encoding: 'utf8' });
      } catch {
        return '';
      }
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      if (running) {
        // A frozen server would not stop.
        try {
          signalServer('SIGCONT');
        } catch {
          // Not running after all.
        }
        await server.stop('immediate').catch(() => onExit());
      }
      process.off('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const [file, argv] = as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions', '-E', 'UTF8', '--locale', 'C']);
    await run(file, [...argv], { timeout: 120_000 });
    await server.start();
    const [createdb, args] = as('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', DATABASE]);
    await run(createdb, [...args], { timeout: 60_000 });
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return server;
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
