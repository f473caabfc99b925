import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { postgresBackend, type TestDatabase } from '../support/databases.js';

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a password given as a DATABASE_URL parameter', () => {
  it('is not printed by the error of a connection that fails', async () => {
    const port = await unusedPort();
    const result = await runCli(['status'], { DATABASE_URL: `postgres://app@127.0.0.1:${port}/catalogue?sslmode=disable&password=hunter2` });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `pubcat: cannot connect to PostgreSQL at postgres://app@127.0.0.1:${port}/catalogue?sslmode=disable&password=***: ` +
        `connection refused (connect ECONNREFUSED 127.0.0.1:${port}): is the server running and listening there?\n`,
    );
  });
});

describe.skipIf(postgresBackend === undefined)('a password given as a DATABASE_URL parameter, on PostgreSQL', () => {
  let database: TestDatabase | undefined;
  /** The test database's URL with a password the server (trust auth) does not ask for, and as pubcat shows it. */
  let url: string;
  let shown: string;
  beforeAll(async () => {
    database = await postgresBackend!.open();
    const withPassword = new URL(database.env.DATABASE_URL!);
    shown = `${withPassword.toString()}?password=***`;
    withPassword.searchParams.set('password', 'hunter2');
    url = withPassword.toString();
  });
  afterAll(async () => {
    await database?.close();
  });

  it('is not printed by status', async () => {
    const result = await runCli(['status'], { DATABASE_URL: url });
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(`database  ${shown} (postgres)`);
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });

  it('is not printed by status --json', async () => {
    const result = await runCli(['status', '--json'], { DATABASE_URL: url });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ database: shown, backend: 'postgres' });
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });

  it('is not printed by migrate', async () => {
    const result = await runCli(['migrate'], { DATABASE_URL: url });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(` in ${shown}\n`);
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });
});
