/**
 * The only reader of process.env. Every variable in DESIGN's table is read, validated once with
 * zod and frozen; a bad value stops start-up with one line naming the variable, the value (never a
 * secret's) and what is allowed.
 */
import { validate as validateCron } from 'node-cron';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { DEFAULT_MAX_MISSING_SHARE } from './load/missing-guard.js';

const NCBI_RPS_WITHOUT_KEY = 3;
const NCBI_RPS_WITH_KEY = 10;
const MIN_RPS = 0.01;
const MAX_BATCH_SIZE = 10_000;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];
const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface Config {
  /** `postgres://…`; undefined means the embedded PGlite database in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  databaseTimeouts: DatabaseTimeouts;
  eutilsBaseUrl: string;
  /** Root of NCBI's bulk files (ending in `/`): `baseline/` and `updatefiles/` lie under it. */
  filesBaseUrl: string;
  ncbiApiKey: string | undefined;
  ncbiEmail: string | undefined;
  ncbiTool: string;
  /** Request starts per second, never above NCBI's limit for the key situation. */
  maxRps: number;
  /** Attempts per E-utilities call, the first included, before it is given up. */
  ncbiAttempts: number;
  /** One E-utilities attempt, request sent to last body byte, in seconds. */
  ncbiTimeoutSeconds: number;
  /** The longest wait a 429's `Retry-After` may impose, in seconds. */
  maxRetryAfterSeconds: number;
  batchSize: number;
  /** Share (0–1) of a batch's or run's PMIDs that may be missing before NCBI is taken to be failing. */
  maxMissingShare: number;
  /** A node-cron expression, or null when the job is switched off. */
  cronRefresh: string | null;
  cronSync: string | null;
  /** When `import --remote updates` runs; null (the default) when it does not. */
  cronUpdates: string | null;
  logLevel: LogLevel;
  /** Undefined: pretty on a terminal, JSON otherwise (the logger decides, seeing the stream). */
  logFormat: LogFormat | undefined;
}

/** How long pubcat waits on PostgreSQL, in seconds (PUBCAT_DB_*_TIMEOUT); 0 means no limit. */
export interface DatabaseTimeouts {
  connectSeconds: number;
  statementSeconds: number;
  idleTransactionSeconds: number;
}

/**
 * A run's batch transaction sits idle while the batch before it commits (commits follow input
 * order), for as long as that batch's statement may run: so the idle limit matches the statement one.
 */
export const DEFAULT_DATABASE_TIMEOUTS: Readonly<DatabaseTimeouts> = Object.freeze({
  connectSeconds: 10,
  statementSeconds: 300,
  idleTransactionSeconds: 300,
});

/** Variables whose value is never echoed back in an error. */
const SECRET_VARIABLES = new Set(['NCBI_API_KEY']);

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const positiveInteger = (max: number) =>
  z.coerce
    .number({ error: `a whole number from 1 to ${max}` })
    .int({ error: `a whole number from 1 to ${max}` })
    .min(1, { error: `a whole number from 1 to ${max}` })
    .max(max, { error: `a whole number from 1 to ${max}` });

/** Whole seconds; an empty value counts as unset, so it can never switch a limit off by accident. */
const seconds = (min: number, max: number, fallback: number) => {
  const allowed = min === 0 ? `a whole number of seconds from 0 (no limit) to ${max}` : `a whole number of seconds from ${min} to ${max}`;
  return z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z.coerce.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed }).default(fallback),
  );
};

/** `0.05` or `5%`; an empty value counts as unset. */
const missingShare = z.preprocess(
  (value) => {
    if (typeof value !== 'string' || value.trim() === '') return undefined;
    const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(value.trim());
    return percent === null ? value : Number(percent[1]) / 100;
  },
  z.coerce
    .number({ error: 'a share from 0 to 1 (0.05) or a percentage from 0% to 100% (5%)' })
    .min(0, { error: 'a share from 0 to 1 (0.05) or a percentage from 0% to 100% (5%)' })
    .max(1, { error: 'a share from 0 to 1 (0.05) or a percentage from 0% to 100% (5%)' })
    .default(DEFAULT_MAX_MISSING_SHARE),
);

const cronExpression = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine((value) => value === 'off' || validateCron(value), {
      error: 'a node-cron expression (5 or 6 fields, seconds allowed) or "off"',
    })
    .transform((value) => (value === 'off' ? null : value));

const environmentSchema = z.object({
  DATABASE_URL: optionalText.refine((value) => value === undefined || isPostgresUrl(value), {
    error: 'a postgres:// or postgresql:// URL, or unset for the embedded database',
  }),
  PUBCAT_DATA_DIR: z.string().trim().min(1, { error: 'a directory path' }).default('./.pubcat'),
  PUBCAT_DB_CONNECT_TIMEOUT: seconds(1, 3_600, DEFAULT_DATABASE_TIMEOUTS.connectSeconds),
  PUBCAT_DB_STATEMENT_TIMEOUT: seconds(0, 86_400, DEFAULT_DATABASE_TIMEOUTS.statementSeconds),
  PUBCAT_DB_IDLE_TX_TIMEOUT: seconds(0, 86_400, DEFAULT_DATABASE_TIMEOUTS.idleTransactionSeconds),
  EUTILS_BASE_URL: z
    .string()
    .trim()
    .default('https://eutils.ncbi.nlm.nih.gov/entrez/eutils/')
    .refine(isHttpUrl, { error: 'an http:// or https:// URL' })
    .transform((value) => (value.endsWith('/') ? value : `${value}/`)),
  PUBCAT_FILES_BASE_URL: z
    .string()
    .trim()
    .default('https://ftp.ncbi.nlm.nih.gov/pubmed/')
    .refine(isHttpUrl, { error: 'an http:// or https:// URL' })
    .transform((value) => (value.endsWith('/') ? value : `${value}/`)),
  NCBI_API_KEY: optionalText.refine((value) => value === undefined || /^[A-Za-z0-9]+$/.test(value), {
    error: 'an NCBI API key (letters and digits, from your NCBI account settings)',
  }),
  NCBI_EMAIL: optionalText.refine((value) => value === undefined || /^[^\s@]+@[^\s@]+$/.test(value), {
    error: 'an e-mail address',
  }),
  NCBI_TOOL: z
    .string()
    .trim()
    .default('pubcat')
    .refine((value) => /^[A-Za-z0-9._-]+$/.test(value), { error: 'letters, digits, dot, dash or underscore' }),
  PUBCAT_MAX_RPS: optionalText,
  PUBCAT_NCBI_ATTEMPTS: positiveInteger(20).default(6),
  PUBCAT_NCBI_TIMEOUT: seconds(1, 3_600, 120),
  PUBCAT_MAX_RETRY_AFTER: seconds(1, 3_600, 120),
  PUBCAT_BATCH_SIZE: positiveInteger(MAX_BATCH_SIZE).default(200),
  PUBCAT_MAX_MISSING_SHARE: missingShare,
  PUBCAT_CRON_REFRESH: cronExpression('0 3 * * *'),
  PUBCAT_CRON_SYNC: cronExpression('15 * * * *'),
  PUBCAT_CRON_UPDATES: cronExpression('off'),
  LOG_LEVEL: z.string().trim().toLowerCase().default('info').pipe(z.enum(LOG_LEVELS, { error: LOG_LEVELS.join(', ') })),
  LOG_FORMAT: optionalText.transform((value) => value?.toLowerCase()).pipe(
    z.enum(LOG_FORMATS, { error: 'json or pretty (unset: pretty on a terminal, json otherwise)' }).optional(),
  ),
});

/** Every variable pubcat reads, as DESIGN's configuration table lists them. */
export const ENVIRONMENT_VARIABLES: readonly string[] = Object.freeze(Object.keys(environmentSchema.shape));

/** Reads and validates the environment. Throws ConfigError on the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    throw configError(variable, env[variable], issue.message);
  }
  const values = parsed.data;
  const rpsCeiling = values.NCBI_API_KEY === undefined ? NCBI_RPS_WITHOUT_KEY : NCBI_RPS_WITH_KEY;
  return Object.freeze({
    databaseUrl: values.DATABASE_URL,
    dataDir: values.PUBCAT_DATA_DIR,
    databaseTimeouts: Object.freeze({
      connectSeconds: values.PUBCAT_DB_CONNECT_TIMEOUT,
      statementSeconds: values.PUBCAT_DB_STATEMENT_TIMEOUT,
      idleTransactionSeconds: values.PUBCAT_DB_IDLE_TX_TIMEOUT,
    }),
    eutilsBaseUrl: values.EUTILS_BASE_URL,
    filesBaseUrl: values.PUBCAT_FILES_BASE_URL,
    ncbiApiKey: values.NCBI_API_KEY,
    ncbiEmail: values.NCBI_EMAIL,
    ncbiTool: values.NCBI_TOOL,
    maxRps: parseMaxRps(values.PUBCAT_MAX_RPS, rpsCeiling),
    ncbiAttempts: values.PUBCAT_NCBI_ATTEMPTS,
    ncbiTimeoutSeconds: values.PUBCAT_NCBI_TIMEOUT,
    maxRetryAfterSeconds: values.PUBCAT_MAX_RETRY_AFTER,
    batchSize: values.PUBCAT_BATCH_SIZE,
    maxMissingShare: values.PUBCAT_MAX_MISSING_SHARE,
    cronRefresh: values.PUBCAT_CRON_REFRESH,
    cronSync: values.PUBCAT_CRON_SYNC,
    cronUpdates: values.PUBCAT_CRON_UPDATES,
    logLevel: values.LOG_LEVEL,
    logFormat: values.LOG_FORMAT,
  });
}

/**
 * NCBI's limit depends on whether a key is set, so the ceiling is only known after both are read.
 * The floor keeps the spacing between starts (1 / rate) a wait a timer can hold, with room to spare.
 */
function parseMaxRps(raw: string | undefined, ceiling: number): number {
  if (raw === undefined) return ceiling;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < MIN_RPS || value > ceiling) {
    const limit =
      ceiling === NCBI_RPS_WITHOUT_KEY
        ? `NCBI's limit without NCBI_API_KEY; ${NCBI_RPS_WITH_KEY} with one`
        : "NCBI's limit with an API key";
    const allowed = `a number above 0 and at most ${ceiling} (${limit}), at least ${MIN_RPS} (one request start every ${1 / MIN_RPS} s)`;
    throw configError('PUBCAT_MAX_RPS', raw, allowed);
  }
  return value;
}

function configError(variable: string, value: string | undefined, allowed: string): ConfigError {
  const secret = SECRET_VARIABLES.has(variable);
  const shownValue = secret || value === undefined ? undefined : redactUrl(value);
  const shown = secret ? '(value hidden)' : JSON.stringify(shownValue ?? '');
  return new ConfigError(`${variable}=${shown} is not valid: expected ${allowed}`, {
    input: { variable, value: shownValue },
  });
}

/**
 * A connection string as messages, logs and `status` may show it: the password of `user:pass@`
 * and the value of every parameter that may hold a secret (`password`, `sslpassword`, any name
 * with pass, secret, key or token in it, but `sslkey`, a file path) replaced by ***. Text that is
 * not a URL (a refused value, a libpq `key=value` string) gets the same treatment.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Up to the last @: a password that broke the URL may hold any character, @ included.
    return redactParameters(url.replace(/\/\/([^:/@]*):.*@/s, '//$1:***@'), /([^\s&?;=]+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&;]*)/g);
  }
  if (parsed.password !== '') parsed.password = '***';
  if (parsed.search !== '') parsed.search = redactParameters(parsed.search, /([^&?]+)=([^&]*)/g);
  return parsed.toString();
}

const SECRET_PARAMETER = /pass|secret|key|token/i;
const NOT_SECRET_PARAMETERS = new Set(['sslkey']);

function redactParameters(text: string, parameter: RegExp): string {
  return text.replace(parameter, (whole, name: string) => {
    const decoded = decodeParameterName(name).toLowerCase();
    return SECRET_PARAMETER.test(decoded) && !NOT_SECRET_PARAMETERS.has(decoded) ? `${name}=***` : whole;
  });
}

function decodeParameterName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
