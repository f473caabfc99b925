/**
 * The error hierarchy. Every error pubcat throws on purpose is a PubcatError: it names what went
 * wrong in one line, keeps the offending input (`input`, never a secret) and the error that
 * caused it (`cause`), so a log line or a test can say exactly which value was refused.
 */
export class PubcatError extends Error {
  readonly input: unknown;

  constructor(message: string, options: { input?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.input = options.input;
  }
}

/** An environment variable or option with a value pubcat cannot use. */
export class ConfigError extends PubcatError {}

/** Input the user gave (a PMID, a file line, a command argument) that pubcat cannot accept. */
export class InputError extends PubcatError {}

/** The database could not be reached, migrated or written as asked. */
export class DatabaseError extends PubcatError {}

/** XML that is malformed, truncated or not of the expected shape. `input` names the document. */
export class XmlParseError extends PubcatError {}

/** NCBI E-utilities answered with an error, or not at all, after every retry. */
export class EutilsError extends PubcatError {}

/**
 * No attempt of a call got any HTTP answer (connection refused, DNS, no response headers): NCBI,
 * or the way to it, is down. Going on would only mark every later PMID failed, one slow batch at
 * a time, so the run stops here and the same command resumes it.
 */
export class EutilsUnreachableError extends EutilsError {}

/** NCBI's bulk file server (baseline and update files) answered with an error, or not at all, after every retry. `input` names the URL. */
export class BulkFileError extends PubcatError {}

/** A bulk file `pubcat import` refuses: md5 mismatch, truncated gzip, XML that does not parse. `input` names the file. */
export class ImportFileError extends PubcatError {}
