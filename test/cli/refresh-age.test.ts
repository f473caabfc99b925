import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

describe('pubcat refresh --older-than out of range', () => {
  it('exits 1 with one line saying the age is out of range, before it opens the database', async () => {
    const result = await runCli(['refresh', '--older-than', '9999999d'], {
      NCBI_EMAIL: 'pubcat-tests@example.org',
      PUBCAT_DATA_DIR: '/nonexistent/pubcat-never-opened',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('pubcat: --older-than "9999999d" is out of range: at most 36500d (100 years)\n');
  });

  it('says the same of an age past what a number holds', async () => {
    const result = await runCli(['refresh', '--older-than', `${'9'.repeat(400)}w`], { NCBI_EMAIL: 'pubcat-tests@example.org' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`pubcat: --older-than "${'9'.repeat(400)}w" is out of range: at most 36500d (100 years)\n`);
  });
});
