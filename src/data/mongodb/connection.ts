// Connections to real MongoDB deployments through the official driver. Server selection is bounded, so an
// unreachable cluster fails each request within a few seconds with a clear error instead of hanging.
// Connection strings may hold credentials: they never appear in messages (only the host list does).
import { MongoClient } from 'mongodb';
import { DataError } from '../errors';

/** How long an operation waits for a usable server before failing (ATRIUM_MONGODB_TIMEOUT_MS overrides). */
export function serverSelectionTimeoutMs(): number {
  const v = Number(process.env.ATRIUM_MONGODB_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 5000;
}

/** The host list of a connection string, without credentials or options. */
export function describeUri(uri: string): string {
  const m = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]*)/.exec(uri);
  return m ? m[1] : '(unparsable connection string)';
}

const UNREACHABLE = new Set(['MongoServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoTopologyClosedError', 'MongoNotConnectedError']);

/** Connection-level driver failures as a clear error naming the data source; other errors pass through. */
export function connectionError(err: unknown, serviceName: string, uri: string): unknown {
  if (!(err instanceof Error) || !UNREACHABLE.has(err.name)) return err;
  const e = new DataError(
    6,
    'HostUnreachable',
    `cannot reach MongoDB for data source "${serviceName}" at ${describeUri(uri)} (gave up after ${serverSelectionTimeoutMs()} ms): ${err.message}`,
  );
  e.name = err.name;
  return e;
}

export function createMongoClient(serviceName: string, uri: string): MongoClient {
  try {
    return new MongoClient(uri, {
      serverSelectionTimeoutMS: serverSelectionTimeoutMs(),
      connectTimeoutMS: serverSelectionTimeoutMs(),
      appName: 'atrium',
    });
  } catch (err) {
    throw new DataError(
      2,
      'BadValue',
      `invalid MongoDB connection string for data source "${serviceName}": ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** Connects, pings and disconnects: for start-up checks. Rejects with a clear error. */
export async function checkMongoConnection(uri: string, serviceName = 'mongodb-atlas'): Promise<void> {
  const client = createMongoClient(serviceName, uri);
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } catch (err) {
    throw connectionError(err, serviceName, uri);
  } finally {
    await client.close().catch(() => undefined);
  }
}
