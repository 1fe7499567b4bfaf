import type { Command } from 'commander';
import { environmentHelp } from '../config/command-env.ts';

/** Appends each command's "Environment:" section (config/command-env.ts) to its --help. */
export function addEnvironmentHelp(command: Command, parents: string[] = []): void {
  for (const child of command.commands) {
    const name = [...parents, child.name()];
    const section = environmentHelp(name.join(' '));
    if (section) child.addHelpText('after', section);
    addEnvironmentHelp(child, name);
  }
}
