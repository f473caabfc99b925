/**
 * `npm run bench`: every benchmark, one after the other (they would skew each other run together),
 * each in its own process. `--quick` (or PUBCAT_BENCH_QUICK=1) runs smaller sizes.
 * Names on the command line pick a subset: `npm run bench -- transform extract`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHMARKS = ['transform', 'extract', 'load', 'e2e', 'faults', 'input', 'budget', 'export', 'analyst', 'retransform', 'import'] as const;

const args = process.argv.slice(2);
const picked = args.filter((arg) => !arg.startsWith('--'));
const unknown = picked.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}: choose from ${BENCHMARKS.join(', ')}`);
  process.exit(2);
}
const flags = args.filter((arg) => arg.startsWith('--'));
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
