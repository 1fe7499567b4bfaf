import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'read-hl7-with-python.py');

// Debian's python3-hl7 lives in the system interpreter's dist-packages; a python3 earlier on PATH
// (pyenv, a virtualenv) would not see it.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** Field n as repetitions -> components -> subcomponents, unescaped. */
export type PythonField = string[][][];

export interface PythonSegment {
  name: string;
  fields: PythonField[];
  edBytesHex?: string;
}

/** The messages as python-hl7 reads them (see read-hl7-with-python.py), one python run for all. */
export function readHl7WithPython(messages: readonly string[]): PythonSegment[][] {
  const output = execFileSync(PYTHON, [SCRIPT], { input: JSON.stringify(messages), maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(output.toString('utf8')) as PythonSegment[][];
}

/** One repetition's components, for fields without subcomponents. */
export function pythonComponents(field: PythonField | undefined, repetition = 0): string[] {
  return (field?.[repetition] ?? [['']]).map((subs) => {
    if (subs.length !== 1) throw new Error(`expected one subcomponent, python-hl7 read ${subs.length}`);
    return subs[0]!;
  });
}
