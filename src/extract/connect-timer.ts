/**
 * How long opening a connection to E-utilities takes, timed on the connections the client's pool
 * opens (TCP, and TLS where the URL is https). A request that must open one reaches the server
 * that much later than it started, which the rate limiter must leave room for; a request on an
 * idle keep-alive connection needs none.
 *
 * The estimate is the slowest of the last few connects, as one slow connect is what draws a 429,
 * and a cautious guess until the first is timed.
 */
import { buildConnector } from 'undici';

/** The estimate before any connect is timed: a TLS handshake to a nearby host. */
const UNTIMED_CONNECT_MS = 50;
/** Connects remembered for the estimate. */
const REMEMBERED_CONNECTS = 8;

export class ConnectTimer {
  /** Undici's own connector, timed: give it to the pool as its `connect` option. */
  readonly connect: buildConnector.connector;
  private readonly recentMs: number[] = [];

  constructor() {
    const open = buildConnector({});
    this.connect = (options, callback) => {
      const started = performance.now();
      open(options, (...result) => {
        if (result[0] === null) this.remember(performance.now() - started);
        callback(...result);
      });
    };
  }

  /** How much later than its start a request on a new connection is expected to arrive, ms. */
  get connectMs(): number {
    return this.recentMs.length === 0 ? UNTIMED_CONNECT_MS : Math.max(...this.recentMs);
  }

  private remember(ms: number): void {
    this.recentMs.push(ms);
    if (this.recentMs.length > REMEMBERED_CONNECTS) this.recentMs.shift();
  }
}
