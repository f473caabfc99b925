import { describe, expect, it } from 'vitest';
import { loadConfig, redactUrl } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

function configErrorFor(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the defaults of DESIGN when nothing is set', () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: undefined,
      dataDir: './.pubcat',
      eutilsBaseUrl: 'https://eutils.ncbi.nlm.nih.gov/entrez/eutils/',
      filesBaseUrl: 'https://ftp.ncbi.nlm.nih.gov/pubmed/',
      ncbiApiKey: undefined,
      ncbiEmail: undefined,
      ncbiTool: 'pubcat',
      maxRps: 3,
      ncbiAttempts: 6,
      ncbiTimeoutSeconds: 120,
      maxRetryAfterSeconds: 120,
      batchSize: 200,
      maxMissingShare: 0.05,
      databaseTimeouts: { connectSeconds: 10, statementSeconds: 300, idleTransactionSeconds: 300 },
      cronRefresh: '0 3 * * *',
      cronSync: '15 * * * *',
      cronUpdates: null,
      logLevel: 'info',
      logFormat: undefined,
    });
  });

  it('raises the request rate to 10 per second when an API key is set', () => {
    expect(loadConfig({ NCBI_API_KEY: 'abc123' }).maxRps).toBe(10);
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });

  it('adds the trailing slash E-utilities paths are resolved against', () => {
    expect(loadConfig({ EUTILS_BASE_URL: 'http://127.0.0.1:8080/eutils' }).eutilsBaseUrl).toBe('http://127.0.0.1:8080/eutils/');
  });

  it('points the bulk files elsewhere with a trailing slash, and refuses what is not an http URL', () => {
    expect(loadConfig({ PUBCAT_FILES_BASE_URL: 'http://127.0.0.1:8080/pubmed' }).filesBaseUrl).toBe('http://127.0.0.1:8080/pubmed/');
    expect(configErrorFor({ PUBCAT_FILES_BASE_URL: 'ftp://ftp.ncbi.nlm.nih.gov/pubmed/' }).message).toBe(
      'PUBCAT_FILES_BASE_URL="ftp://ftp.ncbi.nlm.nih.gov/pubmed/" is not valid: expected an http:// or https:// URL',
    );
  });

  it('runs the update import only when PUBCAT_CRON_UPDATES names a time', () => {
    expect(loadConfig({ PUBCAT_CRON_UPDATES: '30 6 * * *' }).cronUpdates).toBe('30 6 * * *');
    expect(configErrorFor({ PUBCAT_CRON_UPDATES: 'daily' }).message).toContain('PUBCAT_CRON_UPDATES="daily" is not valid');
  });

  it('turns a job off with "off" and accepts cron expressions with seconds', () => {
    const config = loadConfig({ PUBCAT_CRON_REFRESH: 'off', PUBCAT_CRON_SYNC: '*/2 * * * * *' });
    expect(config.cronRefresh).toBeNull();
    expect(config.cronSync).toBe('*/2 * * * * *');
  });

  it('names the variable, the value and what is allowed for a bad DATABASE_URL', () => {
    expect(configErrorFor({ DATABASE_URL: 'not-a-url' }).message).toBe(
      'DATABASE_URL="not-a-url" is not valid: expected a postgres:// or postgresql:// URL, or unset for the embedded database',
    );
  });

  it('hides the password of a database URL it refuses', () => {
    const message = configErrorFor({ DATABASE_URL: 'mysql://user:s3cret@db/x' }).message;
    expect(message).not.toContain('s3cret');
    expect(message).toContain('mysql://user:***@db/x');
  });

  it('refuses a rate above NCBI limit for the key situation', () => {
    expect(configErrorFor({ PUBCAT_MAX_RPS: '5' }).message).toMatch(/^PUBCAT_MAX_RPS="5" is not valid: expected a number above 0 and at most 3/);
    expect(loadConfig({ PUBCAT_MAX_RPS: '2.5' }).maxRps).toBe(2.5);
    expect(loadConfig({ PUBCAT_MAX_RPS: '9', NCBI_API_KEY: 'k' }).maxRps).toBe(9);
    expect(configErrorFor({ PUBCAT_MAX_RPS: '11', NCBI_API_KEY: 'k' }).message).toContain('at most 10');
  });

  it('refuses batch sizes outside 1..10000', () => {
    expect(configErrorFor({ PUBCAT_BATCH_SIZE: '0' }).message).toContain('PUBCAT_BATCH_SIZE="0"');
    expect(configErrorFor({ PUBCAT_BATCH_SIZE: '10001' }).message).toContain('a whole number from 1 to 10000');
    expect(configErrorFor({ PUBCAT_BATCH_SIZE: 'many' }).message).toContain('PUBCAT_BATCH_SIZE="many"');
  });

  it('refuses a cron expression node-cron cannot run', () => {
    expect(configErrorFor({ PUBCAT_CRON_SYNC: 'every hour' }).message).toBe(
      'PUBCAT_CRON_SYNC="every hour" is not valid: expected a node-cron expression (5 or 6 fields, seconds allowed) or "off"',
    );
  });

  it('refuses unknown log levels and bad e-mail addresses', () => {
    expect(configErrorFor({ LOG_LEVEL: 'loud' }).message).toContain('LOG_LEVEL="loud"');
    expect(configErrorFor({ NCBI_EMAIL: 'nobody' }).message).toContain('expected an e-mail address');
  });

  it('reads LOG_LEVEL and LOG_FORMAT in any case, and leaves the format to the stream when unset', () => {
    expect(loadConfig({ LOG_LEVEL: 'INFO', LOG_FORMAT: 'Pretty' })).toMatchObject({ logLevel: 'info', logFormat: 'pretty' });
    expect(loadConfig({ LOG_FORMAT: '' }).logFormat).toBeUndefined();
    expect(configErrorFor({ LOG_FORMAT: 'bogus' }).message).toBe(
      'LOG_FORMAT="bogus" is not valid: expected json or pretty (unset: pretty on a terminal, json otherwise)',
    );
  });

  it('never prints the API key, even the one it refuses', () => {
    const error = configErrorFor({ NCBI_API_KEY: 'secret key!' });
    expect(error.message).toBe('NCBI_API_KEY=(value hidden) is not valid: expected an NCBI API key (letters and digits, from your NCBI account settings)');
    expect(JSON.stringify(error.input)).not.toContain('secret');
  });
});

describe('PUBCAT_MAX_RPS floor', () => {
  it('refuses a rate so low that the wait between starts would overflow a timer, naming the range', () => {
    expect(configErrorFor({ PUBCAT_MAX_RPS: '0.0000001' }).message).toBe(
      'PUBCAT_MAX_RPS="0.0000001" is not valid: expected a number above 0 and at most 3 ' +
        "(NCBI's limit without NCBI_API_KEY; 10 with one), at least 0.01 (one request start every 100 s)",
    );
    expect(configErrorFor({ PUBCAT_MAX_RPS: '0.009', NCBI_API_KEY: 'k' }).message).toContain('at most 10');
    expect(loadConfig({ PUBCAT_MAX_RPS: '0.01' }).maxRps).toBe(0.01);
  });
});

describe('redactUrl', () => {
  it('hides a password given as ?password= or &password=, as well as user:pass@', () => {
    expect(redactUrl('postgres://app@db:5432/catalogue?password=hunter2')).toBe('postgres://app@db:5432/catalogue?password=***');
    expect(redactUrl('postgres://app:hunter2@db/catalogue?sslmode=require&password=hunter2&application_name=etl')).toBe(
      'postgres://app:***@db/catalogue?sslmode=require&password=***&application_name=etl',
    );
  });

  it('hides every parameter named like a secret, percent-encoded names included, and shows sslkey, a file path', () => {
    const url =
      'postgres://app@db/catalogue?sslpassword=hunter2&sslkey=/etc/pubcat/client.key&sslcert=/etc/pubcat/client.crt' +
      '&api_key=hunter2&AuthToken=hunter2&client_secret=hunter2&pass%77ord=hunter2&keepalives=1';
    expect(redactUrl(url)).toBe(
      'postgres://app@db/catalogue?sslpassword=***&sslkey=/etc/pubcat/client.key&sslcert=/etc/pubcat/client.crt' +
        '&api_key=***&AuthToken=***&client_secret=***&pass%77ord=***&keepalives=1',
    );
  });

  it('hides passwords in text that is not a URL: a libpq key=value string, a URL whose port does not parse', () => {
    expect(redactUrl("host=db user=app password = 'hunter 2' sslkey=/k.pem")).toBe('host=db user=app password=*** sslkey=/k.pem');
    expect(redactUrl('postgres://app:hun#ter2@db:port/catalogue?password=hunter2')).toBe('postgres://app:***@db:port/catalogue?password=***');
  });

  it('never echoes a ?password= of a DATABASE_URL it refuses', () => {
    const error = configErrorFor({ DATABASE_URL: 'mysql://app@db/catalogue?password=hunter2' });
    expect(error.message).toBe(
      'DATABASE_URL="mysql://app@db/catalogue?password=***" is not valid: expected a postgres:// or postgresql:// URL, or unset for the embedded database',
    );
    expect(JSON.stringify(error.input)).not.toContain('hunter2');
  });
});
