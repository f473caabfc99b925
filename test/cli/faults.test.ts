/**
 * Every way a run can break ends with the right exit code and one line saying why, within its
 * timeout, and never silently (Node's exit 13, a hang, or a run left `running` by a live process).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, type TestDatabase } from '../support/databases.js';
import { FAULT_SCENARIOS, lastStderrLine } from '../support/fault-scenarios.js';

const postgres = backends.find((backend) => backend.name === 'postgres');

describe('pubcat backfill when the world breaks', () => {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await postgres?.open({ migrated: false });
  });
  afterAll(async () => {
    await database?.close();
  });

  for (const scenario of FAULT_SCENARIOS) {
    it.skipIf(scenario.needsPostgres && postgres === undefined)(`${scenario.name}: exits ${scenario.expectedCode} with one line saying why`, async () => {
      const result = await scenario.run(database?.env.DATABASE_URL);
      expect(lastStderrLine(result)).toMatch(scenario.expectedLine);
      expect(result.code).toBe(scenario.expectedCode);
      expect(result.ms).toBeLessThan(scenario.withinMs);
    }, 60_000);
  }
});
