/**
 * Preloaded into the benchmarked pubcat (NODE_OPTIONS=--import), where it runs on the main
 * thread and on each worker thread: a worker thread appends its Linux thread id to
 * PUBCAT_BENCH_THREAD_IDS, so bench/e2e can tell the transform workers' CPU from the main
 * thread's and from V8's own helper threads (garbage collection), which /proc alone cannot name.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.PUBCAT_BENCH_THREAD_IDS;
if (!isMainThread && file !== undefined) {
  appendFileSync(file, `${readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]}\n`);
}
