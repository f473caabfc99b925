/**
 * Loads that may overlap but commit in the order their work was added. Work (a fetch, a
 * transform) runs ahead; the loads take their turn in order. A load starts once the load before
 * it has opened its transaction (never earlier: on PGlite's single connection, a later load
 * holding the connection while it waits for an earlier one would deadlock), and writes what
 * marks it committed (the run's counters and checkpoint) only once the load before it has
 * committed, and not at all if that failed. So a checkpoint never passes work that is not loaded.
 */

/** What a load is told about its turn. */
export interface LoadTurn {
  /** Call once this load's transaction is open: the next load may then begin its own. */
  began(): void;
  /** Settles once the load before this one committed; rejects if it failed. */
  previousDone: Promise<void>;
}

export interface OrderedLoadsOptions<T> {
  /** Work items added but not yet loading: adding one more waits for the oldest to start loading. */
  inFlight: number;
  /** Loads under way at once: starting one more waits for the oldest to commit. */
  loadsAtOnce: number;
  load(result: T, turn: LoadTurn): Promise<void>;
}

interface Load {
  began: Promise<void>;
  done: Promise<void>;
}

export class OrderedLoads<T> {
  private readonly waiting: Array<Promise<T>> = [];
  private readonly loading: Load[] = [];
  private last: Load = { began: Promise.resolve(), done: Promise.resolve() };

  constructor(private readonly options: OrderedLoadsOptions<T>) {}

  /** Adds work whose result loads after every result added before it. Waits while too much is in flight. */
  async add(work: Promise<T>): Promise<void> {
    // Errors surface when the work's turn to load comes; until then they must not go unhandled.
    work.catch(() => undefined);
    this.waiting.push(work);
    if (this.waiting.length >= this.options.inFlight) await this.loadOldest();
  }

  /** Loads everything added, in order; rejects with the first failure. */
  async finish(): Promise<void> {
    while (this.waiting.length > 0) await this.loadOldest();
    while (this.loading.length > 0) await this.loading.shift()!.done;
  }

  /** Settles once no work or load is running any more (after a failure, later ones may still be). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.waiting, ...this.loading.map((load) => load.done)]);
  }

  private async loadOldest(): Promise<void> {
    let began!: () => void;
    const beganPromise = new Promise<void>((resolve) => (began = resolve));
    const previous = this.last;
    const work = this.waiting.shift()!;
    const done = (async () => {
      const result = await work;
      await previous.began;
      await this.options.load(result, { began, previousDone: previous.done });
    })();
    // A failure surfaces when this load is awaited; the next load's `previousDone` sees it too.
    done.catch(() => undefined);
    // A load that fails before its transaction begins must not leave the next one waiting.
    this.last = { began: Promise.race([beganPromise, done.then(() => undefined, () => undefined)]), done };
    this.loading.push(this.last);
    if (this.loading.length >= this.options.loadsAtOnce) await this.loading.shift()!.done;
  }
}
