import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectTimer } from '../../src/extract/connect-timer.js';

describe('ConnectTimer', () => {
  let server: Server | undefined;
  let pool: Pool | undefined;

  afterEach(async () => {
    await pool?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('guesses 50 ms before any connect, then takes the time the pool spent opening its connections', async () => {
    server = createServer((_request, response) => response.end('ok'));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const timer = new ConnectTimer();
    expect(timer.connectMs).toBe(50);
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 2, connect: timer.connect });
    const bodies = await Promise.all(
      [1, 2].map(async () => (await pool!.request({ path: '/', method: 'GET' })).body.text()),
    );
    expect(bodies).toEqual(['ok', 'ok']);
    // A loopback connect: measured, so no longer the guess, and well under it.
    expect(timer.connectMs).toBeGreaterThan(0);
    expect(timer.connectMs).toBeLessThan(50);
  });

  it('passes a refused connect on to the pool as its error, and times nothing', async () => {
    const timer = new ConnectTimer();
    pool = new Pool('http://127.0.0.1:9', { connect: timer.connect });
    await expect(pool.request({ path: '/', method: 'GET' })).rejects.toThrow(/ECONNREFUSED/);
    expect(timer.connectMs).toBe(50);
  });
});
