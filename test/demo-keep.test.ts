import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/commands/run-demo.ts';
import { runCli } from './support/run-cli.ts';
import { waitFor } from './support/wait-for.ts';

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { out, text: () => text };
}

/** The `sign more` command exactly as printed: its URL and its JSON body. */
function printedSignCommand(text: string): { url: string; body: string } {
  const match = /^ {2}sign more {4}curl -X POST (\S+) -H 'content-type: application\/json' -d '([^']+)'$/m.exec(text);
  if (!match) throw new Error(`no sign command in:\n${text}`);
  return { url: match[1]!, body: match[2]! };
}

/** The `CLI env` line as printed, as an environment for a child process. */
function printedCliEnv(text: string): Record<string, string> {
  const line = /^ {2}CLI env {6}export (.+)$/m.exec(text)?.[1];
  if (!line) throw new Error(`no CLI env in:\n${text}`);
  return Object.fromEntries(line.split(' ').map((pair) => pair.split('=', 2) as [string, string]));
}

async function deliveredCount(env: Record<string, string>): Promise<number> {
  const status = await runCli(['status', '--json'], env);
  if (status.code !== 0) throw new Error(`status exited ${status.code}: ${status.stderr}`);
  return (JSON.parse(status.stdout) as { counts: { delivered: number } }).counts.delivered;
}

describe('demo --keep', () => {
  for (const { targets, signed } of [{ targets: ['fhir'], signed: 3 }, { targets: ['fhir-documents'], signed: 2 }]) {
    it(`says what it starts, then prints a sign command and a CLI env that work (--targets ${targets.join(',')})`, async () => {
      const { out, text } = capture();
      const result = await runDemo({ reports: 2, keep: true, out, targets });
      try {
        expect(result.ok).toBe(true);
        expect(text()).toMatch(/^Starting the embedded parts on 127\.0\.0\.1 \(a few seconds\)\.\.\.\n {2}started embedded FHIR store.* at http:\/\/127\.0\.0\.1:\d+\/fhir\/R4\n {2}started Avara sandbox at http:\/\/127\.0\.0\.1:\d+\n {2}started avara-fhir-sync at http:\/\/127\.0\.0\.1:\d+ \(database \S+\.db\)/m);
        const database = /^ {2}database {5}(\S+)$/m.exec(text())?.[1];
        expect(database && existsSync(database)).toBe(true);
        const cliEnv = printedCliEnv(text());
        expect(cliEnv.SQLITE_PATH).toBe(database);
        expect(await deliveredCount(cliEnv)).toBe(2);

        const sign = printedSignCommand(text());
        const response = await fetch(sign.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: sign.body });
        expect(response.status).toBe(200);
        expect(((await response.json()) as { signed: unknown[] }).signed).toHaveLength(signed);
        await waitFor('the newly signed reports to be delivered', async () => (await deliveredCount(cliEnv)) === 2 + signed, 60_000);
      } finally {
        await result.stop();
      }
    }, 120_000);
  }
});
