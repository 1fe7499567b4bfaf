import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

type Handler = (arg: never) => unknown;
interface Request { id: number; method: string; arg: unknown }
interface Reply { id: number; result?: unknown; error?: string }

/** Child side: answers the parent's calls and says `ready` with `info` once it is. */
export function serveRpc(info: unknown, handlers: Record<string, Handler>): void {
  process.on('message', (message: Request) => {
    void (async () => {
      const handler = handlers[message.method];
      try {
        if (!handler) throw new Error(`unknown method ${message.method}`);
        const result = await handler(message.arg as never);
        process.send?.({ id: message.id, result } satisfies Reply);
      } catch (error) {
        process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) } satisfies Reply);
      }
    })();
  });
  // The parent went away (crashed or finished): never linger as an orphan holding a port.
  process.on('disconnect', () => process.exit(0));
  // An orderly exit on stop, so that --cpu-prof (BENCH_CHILD_NODE_ARGS) writes its profile.
  process.on('SIGTERM', () => process.exit(0));
  process.send?.({ id: 0, result: info } satisfies Reply);
}

export interface RpcChild<Info> {
  info: Info;
  pid: number;
  call<T = unknown>(method: string, arg?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** Forks a bench child module (TypeScript through tsx) and waits for its `ready`. */
export function forkRpcChild<Info>(childModule: string, env: Record<string, string> = {}): Promise<RpcChild<Info>> {
  const path = fileURLToPath(new URL(`./children/${childModule}`, import.meta.url));
  const child = fork(path, [], {
    // BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the children forked from then on.
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean)],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      reject(new Error(`${childModule} exited with ${code} before it was ready`));
      for (const { reject: fail } of pending.values()) fail(new Error(`${childModule} exited with ${code}`));
    });
    child.on('message', (reply: Reply) => {
      if (reply.id === 0) return resolve(handle(reply.result as Info));
      const waiter = pending.get(reply.id);
      pending.delete(reply.id);
      if (reply.error !== undefined) waiter?.reject(new Error(`${childModule}: ${reply.error}`));
      else waiter?.resolve(reply.result);
    });
  });

  function handle(info: Info): RpcChild<Info> {
    return {
      info,
      pid: child.pid!,
      call: <T>(method: string, arg?: unknown) =>
        new Promise<T>((resolve, reject) => {
          const id = nextId++;
          pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
          child.send({ id, method, arg } satisfies Request);
        }),
      stop: () => stopChild(child),
    };
  }
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
