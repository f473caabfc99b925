/**
 * Fault runs: every scenario of test/support/fault-scenarios.ts (NCBI unreachable or failing, the
 * database refusing, hanging or dropping mid-run), run many times as a user runs `pubcat
 * backfill`. Counts the runs that ended other than as they must: a silent exit (no line on stderr
 * saying why, or Node's exit 13), a wrong exit code, or an exit past the scenario's time bound.
 *
 * The PostgreSQL scenario gets a scratch database (DATABASE_URL or TEST_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres), dropped at the end; the others start from a copy
 * of one embedded catalogue migrated at the start (bench/migrated-catalogue.ts). `--quick`: 5 runs each, not 20;
 * `--runs N`: N each; `--only a,b`: only the scenarios whose names contain one of these words.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { withMigratedDataDir } from './migrated-catalogue.js';
import { FAULT_SCENARIOS, lastStderrLine, type FaultScenario } from '../test/support/fault-scenarios.js';

/** The value after `--name` on the command line, if any. */
function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? undefined : process.argv[index + 1];
}
const QUICK = process.argv.includes('--quick') || process.env.PUBCAT_BENCH_QUICK === '1';
const RUNS = Number(option('runs') ?? (QUICK ? 5 : 20));
const ONLY = option('only')?.split(',');
/** Runs at once: enough to load the machine a little, as a busy host would. */
const AT_ONCE = 2;

interface Tally {
  runs: number;
  codes: Map<string, number>;
  silent: number;
  wrongCode: number;
  late: number;
  /** Runs with any of the three faults above. */
  bad: number;
  maxMs: number;
  example: string;
  /** Last lines of the runs that went wrong, each once. */
  wrong: Set<string>;
}

async function runScenario(scenario: FaultScenario, databaseUrl: string | undefined, embeddedDataDir: string): Promise<Tally> {
  const tally: Tally = { runs: 0, codes: new Map(), silent: 0, wrongCode: 0, late: 0, bad: 0, maxMs: 0, example: '', wrong: new Set() };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < RUNS) {
      next += 1;
      const result = await scenario.run(databaseUrl, embeddedDataDir);
      const code = result.code === null ? `signal ${result.signal}` : String(result.code);
      const line = lastStderrLine(result);
      tally.runs += 1;
      tally.codes.set(code, (tally.codes.get(code) ?? 0) + 1);
      const silent = result.code === 13 || !scenario.expectedLine.test(line);
      const wrongCode = result.code !== scenario.expectedCode;
      const late = result.ms > scenario.withinMs;
      tally.silent += Number(silent);
      tally.wrongCode += Number(wrongCode);
      tally.late += Number(late);
      tally.bad += Number(silent || wrongCode || late);
      if (silent || wrongCode) tally.wrong.add(`exit ${code}: ${line === '' ? '(nothing on stderr)' : line}`);
      tally.maxMs = Math.max(tally.maxMs, result.ms);
      tally.example = line;
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
  return tally;
}

export async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `pubcat_faults_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let total = 0;
  let bad = 0;
  try {
    console.log(`fault runs: ${RUNS} per scenario, ${AT_ONCE} at a time; an embedded catalogue starts each run already migrated (a copy of one migrated once)`);
    const scenarios = FAULT_SCENARIOS.filter((each) => ONLY === undefined || ONLY.some((word) => each.name.includes(word)));
    await withMigratedDataDir(async (embeddedDataDir) => {
      for (const scenario of scenarios) {
        const tally = await runScenario(scenario, url.toString(), embeddedDataDir);
        total += tally.runs;
        bad += tally.bad;
        const codes = [...tally.codes].map(([code, count]) => `${code}×${count}`).join(' ');
        console.log(
          `${scenario.name.padEnd(44)} exits ${codes.padEnd(10)} silent ${tally.silent}  wrong code ${tally.wrongCode}  ` +
            `late ${tally.late}  slowest ${(tally.maxMs / 1000).toFixed(1)} s (bound ${scenario.withinMs / 1000} s)`,
        );
        console.log(`  ${tally.example}`);
        for (const line of tally.wrong) console.log(`  wrong: ${line}`);
      }
    });
    console.log(`${total} fault runs: ${bad === 0 ? 'every one' : `${total - bad}`} ended with its exit code and its line, in time (target: 0 silent exits)`);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
  if (bad > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
