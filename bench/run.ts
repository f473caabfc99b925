/**
 * `npm run bench`: every benchmark, one after the other (they would skew each other run together),
 * each in its own process. `--quick` (or PUBCAT_BENCH_QUICK=1) runs smaller sizes.
 * Names on the command line pick a subset: `npm run bench -- transform extract`; options after
 * them go to each picked benchmark: `npm run bench -- budget --requests 60 --rps 3`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHMARKS = ['transform', 'extract', 'load', 'e2e', 'faults', 'input', 'budget', 'export', 'analyst', 'retransform', 'import'] as const;

const isBenchmark = (arg: string): boolean => (BENCHMARKS as readonly string[]).includes(arg);
/** Benchmark names, then options for them; an option's value (`--requests 60`) goes with the option. */
const picked: string[] = [];
const flags: string[] = [];
for (const arg of process.argv.slice(2)) {
  const previous = flags.at(-1);
  if (arg.startsWith('--')) flags.push(arg);
  else if (isBenchmark(arg) && flags.length === 0) picked.push(arg);
  else if (previous !== undefined && !isBenchmark(arg)) flags.push(arg);
  else {
    console.error(`unknown benchmark ${arg}: choose from ${BENCHMARKS.join(', ')} (names come before options)`);
    process.exit(2);
  }
}
let failed = 0;
for (const name of picked.length === 0 ? BENCHMARKS : picked) {
  console.log(`\n== bench/${name}`);
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  const result = spawnSync(process.execPath, [script, ...flags], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`bench/${name} failed (exit ${result.status ?? result.signal})`);
    failed += 1;
  }
}
process.exit(failed === 0 ? 0 : 1);
