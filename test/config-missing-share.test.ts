import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

describe('PUBCAT_MAX_MISSING_SHARE', () => {
  it('reads a share or a percentage, and is 5 % when unset or empty', () => {
    expect(loadConfig({}).maxMissingShare).toBe(0.05);
    expect(loadConfig({ PUBCAT_MAX_MISSING_SHARE: ' ' }).maxMissingShare).toBe(0.05);
    expect(loadConfig({ PUBCAT_MAX_MISSING_SHARE: '0.2' }).maxMissingShare).toBe(0.2);
    expect(loadConfig({ PUBCAT_MAX_MISSING_SHARE: '12.5%' }).maxMissingShare).toBe(0.125);
    expect(loadConfig({ PUBCAT_MAX_MISSING_SHARE: '0' }).maxMissingShare).toBe(0);
    expect(loadConfig({ PUBCAT_MAX_MISSING_SHARE: '100 %' }).maxMissingShare).toBe(1);
  });

  it('refuses a share above 1, a percentage above 100 and words, naming the variable and what it takes', () => {
    for (const value of ['5', '120%', 'five percent', '-0.1']) {
      const refusal = (() => {
        try {
          loadConfig({ PUBCAT_MAX_MISSING_SHARE: value });
        } catch (error) {
          return error;
        }
      })();
      expect(refusal).toBeInstanceOf(ConfigError);
      expect((refusal as ConfigError).message).toBe(
        `PUBCAT_MAX_MISSING_SHARE=${JSON.stringify(value)} is not valid: expected a share from 0 to 1 (0.05) or a percentage from 0% to 100% (5%)`,
      );
    }
  });
});
