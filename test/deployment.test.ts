/**
 * docker compose cannot run here (no Docker engine), so the deployment files are checked for
 * consistency instead: one image for every pubcat service, dependencies and health checks, no
 * published database port, no password in the files, and an image that holds what the package
 * ships. The scheduler's health check command is run for real.
 */
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENVIRONMENT_VARIABLES } from '../src/config.js';
import { runCli } from './support/cli.js';
import { backends, type TestDatabase } from './support/databases.js';

interface ComposeService {
  image?: string;
  build?: string;
  pull_policy?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
}

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const parseCompose = (path: string) => parse(read(path), { merge: true }) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };

const compose = parseCompose('docker-compose.yml');
const { postgres, migrate, schedule } = compose.services;
const pubcatServices = Object.entries(compose.services).filter(([name]) => name !== 'postgres');
const dockerfile = read('Dockerfile');
const stages = dockerfile.split(/^(?=FROM )/m).filter((stage) => stage.startsWith('FROM '));
const runtimeStage = stages.at(-1)!;
const entrypoint = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(dockerfile)![1]!) as string[];
const packageJson = JSON.parse(read('package.json')) as { bin: { pubcat: string }; files: string[]; engines: { node: string } };
/** The variable compose fills the password in from (.env or the environment), never a value. */
const PASSWORD_FROM_ENV = /^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/;

/** Compose durations as these files write them: 30s, 1m, 45s. */
function seconds(duration: string): number {
  const match = /^(\d+)(s|m)$/.exec(duration);
  if (match === null) throw new Error(`unexpected duration ${duration}`);
  return Number(match[1]) * (match[2] === 'm' ? 60 : 1);
}

describe('docker-compose.yml', () => {
  it('has PostgreSQL 16 with a named volume and a health check, and publishes no port on the host', () => {
    expect(postgres?.image).toBe('postgres:16');
    const [volumeName] = postgres!.volumes![0]!.split(':');
    expect(compose.volumes).toHaveProperty(volumeName!);
    expect(postgres!.healthcheck!.test.join(' ')).toContain('pg_isready');
    expect(postgres).not.toHaveProperty('ports');
  });

  it('builds the pubcat image once, and every pubcat service runs that image without pulling it', () => {
    const builders = pubcatServices.filter(([, service]) => service.build !== undefined);
    expect(builders.map(([name]) => name)).toEqual(['migrate']);
    expect(migrate!.build).toBe('.');
    expect(pubcatServices.map(([name]) => name).sort()).toEqual(['migrate', 'schedule']);
    for (const [name, service] of pubcatServices) {
      expect(service.image, name).toBe(migrate!.image);
      if (service.build === undefined) expect(service.pull_policy, name).toBe('never');
    }
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

  it('checks the scheduler with the image’s pubcat command, more often than it times out', () => {
    const { test, interval, timeout, retries } = schedule!.healthcheck!;
    expect(test.slice(0, 3)).toEqual(['CMD', 'node', entrypoint.at(-1)]);
    expect(seconds(timeout!)).toBeLessThan(seconds(interval!));
    expect(retries).toBeGreaterThanOrEqual(2);
  });

  it('takes the database password from .env for PostgreSQL and pubcat alike, and keeps it out of the URL', () => {
    const { POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB } = postgres!.environment!;
    expect(POSTGRES_PASSWORD).toMatch(PASSWORD_FROM_ENV);
    for (const [name, service] of pubcatServices) {
      const url = new URL(service.environment!.DATABASE_URL!);
      expect({ user: url.username, password: url.password, host: url.host, database: url.pathname }, name).toEqual({
        user: POSTGRES_USER,
        password: '',
        host: 'postgres:5432',
        database: `/${POSTGRES_DB}`,
      });
      expect(service.environment!.PGPASSWORD, name).toBe(POSTGRES_PASSWORD);
    }
  });

  it('relies on pg taking the password from PGPASSWORD when DATABASE_URL has none', () => {
    const saved = process.env.PGPASSWORD;
    process.env.PGPASSWORD = 'from .env';
    try {
      expect(new pg.Client({ connectionString: migrate!.environment!.DATABASE_URL }).password).toBe('from .env');
    } finally {
      if (saved === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = saved;
    }
  });

  it('passes the NCBI credentials through and sets only variables pubcat or pg reads', () => {
    expect(schedule!.environment!.NCBI_API_KEY).toBe('${NCBI_API_KEY:-}');
    expect(schedule!.environment!.NCBI_EMAIL).toBe('${NCBI_EMAIL:-}');
    for (const [, service] of pubcatServices) {
      for (const name of Object.keys(service.environment!)) expect([...ENVIRONMENT_VARIABLES, 'PGPASSWORD']).toContain(name);
    }
  });

  it('gives the scheduler longer than its 30-second shutdown to stop', () => {
    expect(seconds(schedule!.stop_grace_period!)).toBeGreaterThan(30);
  });
});

describe.each(backends)('the scheduler health check on $name', (backend) => {
  const command = schedule!.healthcheck!.test.slice(3);
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('passes on a migrated catalogue', async () => {
    database = await backend.open({ onDisk: true });
    const env = database.env;
    const result = await database.whileDetached(() => runCli(command, env));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  }, 60_000);
});

describe('the scheduler health check without its database', () => {
  it('fails, naming the server it cannot reach', async () => {
    const result = await runCli(schedule!.healthcheck!.test.slice(3), { DATABASE_URL: 'postgres://pubcat@127.0.0.1:1/pubcat' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^pubcat: cannot connect to PostgreSQL at postgres:\/\/pubcat@127\.0\.0\.1:1\/pubcat/);
  });
});

describe('docker-compose.override.example.yml', () => {
  it('publishes PostgreSQL on loopback only, on a host port other than 5432', () => {
    const ports = parseCompose('docker-compose.override.example.yml').services.postgres!.ports!;
    expect(ports).toHaveLength(1);
    const [, hostPort] = /^127\.0\.0\.1:(\d+):5432$/.exec(ports[0]!)!;
    expect(hostPort).not.toBe('5432');
  });
});

describe('Dockerfile', () => {
  const ignored = read('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const isIgnored = (path: string) =>
    ignored.some((pattern) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`).test(path));

  it('keeps local installs, builds, the embedded database, the repository and the .env file out of the build context', () => {
    for (const path of ['node_modules', '.git', '.pubcat', 'dist', 'coverage', 'pubcat-0.1.0.tgz', '.env']) {
      expect(isIgnored(path), path).toBe(true);
    }
  });

  it('copies only paths that exist in the project and reach the build context', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) => match[1]!.split(' '));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) {
      expect(existsSync(new URL(source, root)), source).toBe(true);
      expect(isIgnored(source), source).toBe(false);
    }
  });

  it('builds on one even-numbered (LTS) Node line from 22 up, which the package’s engines accept', () => {
    const bases = stages.map((stage) => /^FROM (\S+)/.exec(stage)![1]!);
    expect(new Set(bases).size).toBe(1);
    const major = Number(/^node:(\d+)-[a-z]+-slim$/.exec(bases[0]!)![1]);
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(22);
    expect(major).toBeGreaterThanOrEqual(Number(/^>=(\d+)/.exec(packageJson.engines.node)![1]));
  });

  it('compiles in the first stage and runs with its production dependencies only, as a non-root user', () => {
    expect(stages).toHaveLength(2);
    expect(stages[0]).toMatch(/^RUN npm ci\b/m);
    expect(stages[0]).toMatch(/^RUN npm run build && npm prune --omit=dev\b/m);
    expect(runtimeStage).not.toMatch(/^RUN /m);
    expect(runtimeStage).toContain('COPY --from=build /app/node_modules ./node_modules');
    expect(/^USER (\S+)$/m.exec(runtimeStage)?.[1]).toBe('node');
  });

  it('ships in the image what the npm package ships, and package.json', () => {
    const copied = [...runtimeStage.matchAll(/^COPY (?:--from=build \/app\/)?(\S+) \.\/(\S*)$/gm)].map((match) => match[1]!);
    expect(copied.sort()).toEqual(['node_modules', 'package.json', ...packageJson.files].sort());
  });

  it('starts the pubcat command the package builds, with the heap cap its first line gives', () => {
    const shebang = read('src/cli.ts').split('\n')[0]!;
    const heapCap = /--max-old-space-size=\d+/.exec(shebang)![0];
    expect(entrypoint).toEqual(['node', heapCap, packageJson.bin.pubcat]);
  });
});
