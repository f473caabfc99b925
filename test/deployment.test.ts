/**
 * docker compose cannot run here (no Docker engine), so the deployment files are checked for
 * consistency instead: services, dependencies, ports, the environment they pass and the paths
 * the image copies.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENVIRONMENT_VARIABLES } from '../src/config.js';

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
}

const root = new URL('../', import.meta.url);
const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8')) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const { postgres, migrate, schedule } = compose.services;

describe('docker-compose.yml', () => {
  it('has PostgreSQL 16 with a named volume, a health check and its port on loopback', () => {
    expect(postgres?.image).toBe('postgres:16');
    const [volumeName] = postgres!.volumes![0]!.split(':');
    expect(compose.volumes).toHaveProperty(volumeName!);
    expect(postgres!.healthcheck!.test.join(' ')).toContain('pg_isready');
    expect(postgres!.ports).toEqual(['127.0.0.1:5432:5432']);
  });

  it('runs migrate once after PostgreSQL is healthy, and the scheduler after both', () => {
    expect(migrate?.command).toEqual(['migrate']);
    expect(migrate?.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(schedule?.command).toEqual(['schedule']);
    expect(schedule?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
  });

  it('points both pubcat services at the postgres service with its own credentials', () => {
    const { POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB } = postgres!.environment!;
    const expected = `postgres://${POSTGRES_USER}:${POSTGRES_PASSWORD}@postgres:5432/${POSTGRES_DB}`;
    expect(migrate!.environment!.DATABASE_URL).toBe(expected);
    expect(schedule!.environment!.DATABASE_URL).toBe(expected);
  });

  it('passes the NCBI credentials through and sets only variables pubcat reads', () => {
    expect(schedule!.environment!.NCBI_API_KEY).toBe('${NCBI_API_KEY:-}');
    expect(schedule!.environment!.NCBI_EMAIL).toBe('${NCBI_EMAIL:-}');
    for (const service of [migrate!, schedule!]) {
      for (const name of Object.keys(service.environment!)) expect(ENVIRONMENT_VARIABLES).toContain(name);
    }
  });

  it('gives the scheduler longer than its 30-second shutdown to stop', () => {
    expect(Number.parseInt(schedule!.stop_grace_period!, 10)).toBeGreaterThan(30);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');

  it('copies only paths that exist in the project', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) => match[1]!.split(' '));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) expect(existsSync(new URL(source, root)), source).toBe(true);
  });

  it('starts the pubcat command the package builds, with the heap cap its first line gives', () => {
    const bin = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { bin: { pubcat: string } }).bin.pubcat;
    const shebang = readFileSync(new URL('src/cli.ts', root), 'utf8').split('\n')[0]!;
    const heapCap = /--max-old-space-size=\d+/.exec(shebang)![0];
    expect(dockerfile).toContain(`ENTRYPOINT ["node", "${heapCap}", "${bin}"]`);
  });
});
