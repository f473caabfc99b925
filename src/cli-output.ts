/**
 * How the `pubcat` command answers when it is asked for its version or misused: the version of the
 * installed package, and usage errors as one line with commander's suggestion, not a help page.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

/**
 * The version in pubcat's package.json, found above this module wherever it runs from (src/ under
 * tests, dist/src/ when built, node_modules/pubcat/dist/src/ when installed).
 */
export function packageVersion(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
    if (manifest.name === 'pubcat' && typeof manifest.version === 'string') return manifest.version;
  }
  throw new Error(`no package.json of pubcat above ${from}`);
}

/** Makes `command` and every command under it report usage errors in one line. */
export function useOneLineErrors(command: Command): void {
  command.configureOutput({ outputError: (message, write) => write(`pubcat: ${oneLineError(message, commandPath(command))}\n`) });
  for (const subcommand of command.commands) useOneLineErrors(subcommand);
}

/**
 * Commander writes `error: unknown command 'x'` and its suggestion on a second line, `(Did you
 * mean y?)`. Joined into one line; without a suggestion the line says where the usage is.
 */
export function oneLineError(message: string, path: string): string {
  const text = message
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .replace('(Did you mean', '(did you mean');
  return text.includes('(did you mean') ? text : `${text.replace(/\.$/, '')} (see ${path} --help)`;
}

function commandPath(command: Command): string {
  return command.parent === null ? command.name() : `${commandPath(command.parent)} ${command.name()}`;
}
