import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE_NAME } from '../../src/load/data-dir-lock.js';
import { childEnvironment, CLI_PATH, runCli } from '../support/cli.js';
import { migratedDataDir } from '../support/databases.js';

/** Opening an on-disk PGlite takes seconds, and several times that on a loaded machine. */
const PGLITE_CHILD_TIMEOUT_MS = 120_000;

describe('pubcat sql', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await migratedDataDir('pubcat-sql-');
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    'serves the embedded database to a PostgreSQL client while holding its lock, and exits 0 on SIGTERM with the lock released',
    async () => {
      const env = { PUBCAT_DATA_DIR: dataDir };
      const server = spawn(process.execPath, [CLI_PATH, 'sql', '--port', '0'], { env: childEnvironment(env) });
      let stdout = '';
      let stderr = '';
      server.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      server.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => server.on('close', resolve));
      try {
        const url = await new Promise<string>((resolve, reject) => {
          server.stdout.on('data', () => {
            const match = /at (postgresql:\/\/postgres@127\.0\.0\.1:(\d+)\/postgres\?sslmode=disable)\n/.exec(stdout);
            if (match !== null && match[2] !== '0') resolve(match[1]!);
          });
          void exited.then((code) => reject(new Error(`pubcat sql exited ${code}: ${stderr}`)));
        });
        expect(stdout).toContain(`serving the embedded database in ${dataDir} at ${url}`);

        const client = new pg.Client(url);
        await client.connect();
        try {
          const views = await client.query<{ count: string }>('SELECT count(*) FROM v_record');
          expect(views.rows).toEqual([{ count: '0' }]);
          const tables = await client.query<{ table_name: string }>(
            "SELECT table_name FROM information_schema.tables WHERE table_name = 'catalogue_record'",
          );
          expect(tables.rows).toEqual([{ table_name: 'catalogue_record' }]);
        } finally {
          await client.end();
        }

        const refused = await runCli(['status'], env);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(new RegExp(`^pubcat: the embedded database in ${dataDir} is in use by pubcat sql \\(pid ${server.pid}, `));
        expect(existsSync(join(dataDir, LOCK_FILE_NAME))).toBe(true);
      } finally {
        server.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
      expect(existsSync(join(dataDir, LOCK_FILE_NAME))).toBe(false);
      expect(stderr).not.toMatch(/^pubcat:/m);
    },
    PGLITE_CHILD_TIMEOUT_MS,
  );

  it('refuses with DATABASE_URL set, in one line that says to connect to that server directly', async () => {
    const result = await runCli(['sql'], { DATABASE_URL: 'postgres://analyst:secret@127.0.0.1:5432/catalogue' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'pubcat: nothing to serve: DATABASE_URL points pubcat at the PostgreSQL server postgres://analyst:***@127.0.0.1:5432/catalogue; connect psql to it directly\n',
    );
  });
});
