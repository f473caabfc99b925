/**
 * A run's input, read so that giving the run up never waits on it. Reading can block on things
 * that know nothing of the run's signals (stdin, an esearch page asked without them): once
 * `cancel` aborts, the wait under way is left behind and the input ends there. An input that
 * fails with `cancel`'s own reason (it honoured the signal) ends the same way.
 *
 * Not a wrapping async generator: this costs a third of one per item, which counts since a
 * resumed run reads again every item before its checkpoint.
 */
export interface CancellableInput<T> {
  /** The next item; undefined once the input ended or `cancel` aborted. */
  next(): Promise<T | undefined>;
  /**
   * Ends reading early, as leaving a `for await` loop does: the input's own cleanup runs, waited
   * for until `cancel` aborts at the latest. Does nothing once the input ended.
   */
  close(): Promise<void>;
}

export function cancellableInput<T>(items: AsyncIterable<T>, cancel: AbortSignal | undefined): CancellableInput<T> {
  const iterator = items[Symbol.asyncIterator]();
  let ended = false;
  let wake: ((cancelled: undefined) => void) | undefined;
  const onCancel = (): void => wake?.(undefined);
  cancel?.addEventListener('abort', onCancel, { once: true });
  const forgetCancel = (): void => cancel?.removeEventListener('abort', onCancel);

  /** What `pending` settles with, or undefined as soon as `cancel` aborts (`pending` is then left to itself). */
  const unlessCancelled = <R>(pending: Promise<R>): Promise<R | undefined> =>
    new Promise((resolve, reject) => {
      wake = resolve;
      pending.then(resolve, (error: unknown) => (cancel?.aborted === true && error === cancel.reason ? resolve(undefined) : reject(error)));
      if (cancel?.aborted === true) resolve(undefined);
    });

  return {
    async next() {
      if (ended) return undefined;
      let result: IteratorResult<T> | undefined;
      try {
        result = await unlessCancelled(iterator.next());
      } finally {
        ended = result?.done !== false;
        if (ended) forgetCancel();
      }
      return result?.done === false ? result.value : undefined;
    },
    async close() {
      if (ended) return;
      ended = true;
      try {
        const closing = iterator.return?.();
        if (closing !== undefined) await unlessCancelled(closing);
      } finally {
        forgetCancel();
      }
    },
  };
}
