/**
 * The package as a user installs it outside the project: `npm pack`, then `npm install -g` of the
 * tarball into a scratch prefix with the network off (--offline), then the installed `pubcat` run
 * through its own shebang from a directory outside the project. The tarball carries its
 * dependencies (bundleDependencies): without them npm would have to ask the registry what each
 * dependency's version range resolves to, which no lockfile answers for a global install.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnvironment, type CliResult } from '../support/cli.js';
import { postgresBackend, type TestDatabase } from '../support/databases.js';

interface PackedFile {
  path: string;
}
interface PackResult {
  filename: string;
  files: PackedFile[];
  bundled: string[];
}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** npm with the user's cache and settings but none of the npm_config_* a parent `npm test` exports. */
async function npm(args: string[], cwd: string): Promise<CliResult> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_cache: process.env.npm_config_cache };
  const result = await run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], cwd, env);
  if (result.code !== 0) throw new Error(`npm ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  return result;
}

let work: string;
let packed: PackResult;
let pubcat: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pubcat-install-'));
  // The suite builds dist/ first; packing must not rebuild it under the other tests' feet.
  const pack = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], projectRoot);
  [packed] = JSON.parse(pack.stdout) as [PackResult];
  const prefix = join(work, 'prefix');
  await npm(['install', '--global', '--offline', '--prefix', prefix, join(work, packed.filename)], work);
  pubcat = join(prefix, 'bin', 'pubcat');
}, 120_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('packs the built command with its shebang, the migrations and the dependencies, and no tests', async () => {
    const paths = packed.files.map((file) => file.path);
    expect(paths).toContain('dist/src/cli.js');
    expect(paths).toContain('dist/jobs/scheduler.js');
    expect(paths).toContain('sql/001_catalogue.sql');
    expect(paths.filter((path) => /^(src|test|bench|dist\/test|dist\/bench)\//.test(path))).toEqual([]);
    expect(packed.bundled).toEqual(expect.arrayContaining(['pg', '@electric-sql/pglite', 'kysely', 'commander']));
    const installed = await readFile(join(work, 'prefix', 'lib', 'node_modules', 'pubcat', 'dist', 'src', 'cli.js'), 'utf8');
    expect(installed.split('\n')[0]).toBe('#!/usr/bin/env -S node --max-old-space-size=512');
  });
});

describe('pubcat installed with npm install -g', () => {
  it('links its command to the installed package, not to the project', async () => {
    expect(await realpath(pubcat)).toBe(join(await realpath(work), 'prefix', 'lib', 'node_modules', 'pubcat', 'dist', 'src', 'cli.js'));
  });

  it('prints its help from a directory outside the project', async () => {
    const result = await run(pubcat, ['--help'], work, childEnvironment({}));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: pubcat /);
  });
});

describe('pubcat installed with npm install -g, on the embedded database', () => {
  it('migrates with the sql/ it ships, then reports an empty catalogue', async () => {
    const env = childEnvironment({ PUBCAT_DATA_DIR: join(work, 'catalogue') });
    const migrated = await run(pubcat, ['migrate'], work, env);
    const status = await run(pubcat, ['status'], work, env);
    expectMigratedAndEmpty(migrated, status);
  }, 60_000);
});

describe.skipIf(postgresBackend === undefined)('pubcat installed with npm install -g, on PostgreSQL', () => {
  let database: TestDatabase | undefined;
  afterAll(async () => {
    await database?.close();
  });

  it('migrates with the sql/ it ships, then reports an empty catalogue', async () => {
    database = await postgresBackend!.open({ migrated: false });
    const env = childEnvironment(database.env);
    const migrated = await run(pubcat, ['migrate'], work, env);
    const status = await run(pubcat, ['status'], work, env);
    expectMigratedAndEmpty(migrated, status);
  });
});

function expectMigratedAndEmpty(migrated: CliResult, status: CliResult): void {
  expect(migrated.code).toBe(0);
  expect(migrated.stdout).toMatch(/^applied 001_catalogue\.sql, /);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain('records   none yet: the catalogue is empty');
}
