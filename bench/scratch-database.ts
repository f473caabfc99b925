/**
 * The PostgreSQL database a benchmark runs in: a new one on the server DATABASE_URL or
 * TEST_DATABASE_URL names (default the local one), dropped at the end whatever happens, so that
 * no benchmark sees another's rows or leaves its own behind.
 */
import pg from 'pg';

export const BENCH_SERVER_URL = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Runs `work` with the URL and name of a fresh database, and an admin connection to its server. */
export async function withScratchDatabase<T>(work: (url: string, name: string, admin: pg.Client) => Promise<T>): Promise<T> {
  const name = `pubcat_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: BENCH_SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(BENCH_SERVER_URL);
    url.pathname = `/${name}`;
    return await work(url.toString(), name, admin);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
