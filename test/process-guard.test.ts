import { describe, expect, it } from 'vitest';
import { DatabaseError } from '../src/errors.js';
import { describeFailure } from '../src/process-guard.js';
import { budgetError } from '../src/load/start-slots.js';

describe('describeFailure', () => {
  it('gives a pubcat error its own message', () => {
    expect(describeFailure(new DatabaseError('cannot connect to PostgreSQL at postgres://db/x: refused'))).toBe(
      'cannot connect to PostgreSQL at postgres://db/x: refused',
    );
  });

  it('names a lost database connection and how to resume, by code or by message', () => {
    const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    expect(describeFailure(terminated)).toBe(
      'lost the connection to the database (terminating connection due to administrator command); every batch before the last checkpoint is saved: run the same command again to resume',
    );
    expect(describeFailure(new Error('Connection terminated unexpectedly'))).toMatch(/^lost the connection to the database \(Connection terminated unexpectedly\)/);
  });

  it('keeps an unexpected error to its first line, and shows a thrown value that is not an error', () => {
    expect(describeFailure(new TypeError('x is not a function\n    at somewhere'))).toBe(
      'internal error: x is not a function (run again with LOG_LEVEL=debug for the stack, and report it)',
    );
    expect(describeFailure({ errno: -2 })).toBe('internal error: { errno: -2 } (run again with LOG_LEVEL=debug for the stack, and report it)');
  });
});

describe('budgetError', () => {
  it('calls a connection lost while asking the shared NCBI start budget that, with how to resume', () => {
    const error = budgetError('reserve request starts from', 'http://127.0.0.1:1 without key', new Error('Connection terminated unexpectedly'));
    expect(describeFailure(error)).toBe(
      'cannot reserve request starts from the shared NCBI start budget "http://127.0.0.1:1 without key": lost the connection to the database ' +
        '(Connection terminated unexpectedly); every batch before the last checkpoint is saved: run the same command again to resume',
    );
  });

  it('keeps the reason of any other failure as the database gave it', () => {
    const denied = Object.assign(new Error('permission denied for table ncbi_start_slot'), { code: '42501' });
    expect(budgetError('pause', 'k', denied).message).toBe('cannot pause the shared NCBI start budget "k": permission denied for table ncbi_start_slot');
  });
});
