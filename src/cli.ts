#!/usr/bin/env node
/**
 * The `pubcat` command. Each subcommand reads the validated configuration once, does its work and
 * exits 0; anything pubcat refuses or cannot do ends with one line on stderr and exit code 1.
 */
import { Command } from 'commander';
import { runMigrateCommand } from './commands/migrate.js';
import { runStatusCommand } from './commands/status.js';
import { loadConfig, type Config } from './config.js';
import { PubcatError } from './errors.js';
import { createLogger, type Logger } from './logger.js';

function withConfig(action: (config: Config, logger: Logger) => Promise<void>): () => Promise<void> {
  return async () => {
    const config = loadConfig();
    await action(config, createLogger(config.logLevel));
  };
}

export function buildProgram(): Command {
  const program = new Command('pubcat')
    .description('Keep a PostgreSQL catalogue of PubMed articles in sync with NCBI E-utilities.')
    .showHelpAfterError()
    .configureOutput({ outputError: (message, write) => write(message) });

  program
    .command('migrate')
    .description('create or upgrade the database schema (safe to run again)')
    .action(withConfig((config, logger) => runMigrateCommand(config, logger)));

  program
    .command('status')
    .description('recent runs with their counters, records by status, missing PMIDs')
    .option('--json', 'print one JSON object instead of a table')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig();
      await runStatusCommand(config, options);
    });

  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    const message = error instanceof PubcatError ? error.message : (error as Error).stack ?? String(error);
    process.stderr.write(`pubcat: ${message}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);
