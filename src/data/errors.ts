// MongoDB-style errors thrown into user functions: the same `name`, numeric `code` and `codeName` as the Node
// driver's MongoServerError, so `err.code === 11000` checks written for App Services keep working.

export class DataError extends Error {
  override name = 'MongoServerError';
  readonly code: number;
  readonly codeName: string;
  /** Duplicate-key details, as the driver reports them. */
  keyPattern?: Record<string, number>;
  keyValue?: Record<string, unknown>;

  constructor(code: number, codeName: string, message: string) {
    super(message);
    this.code = code;
    this.codeName = codeName;
  }
}

export interface WriteErrorDetail {
  index: number;
  code: number;
  codeName: string;
  errmsg: string;
}

/** insertMany / bulkWrite failure: what was written before (or despite) the errors, and each error by op index. */
export class BulkWriteError extends DataError {
  override name = 'MongoBulkWriteError';
  readonly writeErrors: WriteErrorDetail[];
  readonly insertedIds: Record<number, unknown>;

  constructor(writeErrors: WriteErrorDetail[], insertedIds: Record<number, unknown>) {
    const first = writeErrors[0];
    super(first.code, first.codeName, writeErrors.length === 1 ? first.errmsg : `${first.errmsg} (and ${writeErrors.length - 1} more write errors)`);
    this.writeErrors = writeErrors;
    this.insertedIds = insertedIds;
  }
}

export const badValue = (message: string): DataError => new DataError(2, 'BadValue', message);
export const failedToParse = (message: string): DataError => new DataError(9, 'FailedToParse', message);
export const typeMismatch = (message: string): DataError => new DataError(14, 'TypeMismatch', message);

/** An operator, stage or option the embedded store cannot run: fail loudly instead of answering wrongly. */
export function notSupported(what: string, hint = ''): DataError {
  return new DataError(
    115,
    'CommandNotSupported',
    `${what} is not supported by Atrium's embedded store${hint ? `: ${hint}` : ''}. Serve this data source from a real MongoDB deployment (--mongodb-uri <name>=<uri>) to use it.`,
  );
}

export function queryResultTooLarge(limit: number): DataError {
  return new DataError(
    50000,
    'QueryResultLimitExceeded',
    `query would return more than ${limit} documents, the App Services limit per query result; narrow the query or use limit()/skip() to page through it`,
  );
}

export function asDataError(err: unknown): DataError | BulkWriteError | Error {
  if (err instanceof DataError) return err;
  if (err instanceof Error) {
    // mingo reports malformed queries/updates/pipelines with MingoError (a plain Error subclass).
    if (err.constructor.name === 'MingoError') return badValue(err.message);
    return err;
  }
  return new Error(String(err));
}
