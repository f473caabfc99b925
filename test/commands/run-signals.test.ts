import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { abortOnSignals, type RunSignals } from '../../src/commands/run-support.js';

describe('the signals of a run', () => {
  let signals: RunSignals | undefined;
  afterEach(() => signals?.dispose());

  it('take a listener from every E-utilities call in flight, dozens of them, without Node warning of a leak on stderr', async () => {
    signals = abortOnSignals(pino({ level: 'silent' }));
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      for (let call = 0; call < 60; call += 1) {
        signals.signal.addEventListener('abort', () => undefined, { once: true });
        signals.cancel.addEventListener('abort', () => undefined, { once: true });
      }
      // Node emits the warning on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((warning) => warning.name)).toEqual([]);
  });
});
