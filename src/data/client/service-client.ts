// context.services.get("<data source>"): the service client, its databases and sessions (§11.3).
import { DataError } from '../errors';
import type { DataSource, SourceSession } from '../types';
import { checkName, optionsObject, registerSession } from './arguments';
import { MongoCollection } from './collection';

function systemOnly(what: string): DataError {
  return new DataError(13, 'Unauthorized', `${what} is only available to functions that run as system`);
}

export class MongoDatabase {
  constructor(
    private readonly source: DataSource,
    readonly databaseName: string,
    private readonly system: boolean,
  ) {}

  collection(name: unknown): MongoCollection {
    return new MongoCollection(this.source, { db: this.databaseName, collection: checkName(name, 'collection') }, this.system);
  }

  /** Names of the collections in this database (system functions only, as in App Services). */
  async getCollectionNames(): Promise<string[]> {
    if (!this.system) throw systemOnly('getCollectionNames');
    return this.source.listCollectionNames(this.databaseName, {});
  }
}

/** The session object user code holds; `{ session }` in options maps back to the data source's session. */
export class ClientSession {
  constructor(private readonly inner: SourceSession) {}

  get hasEnded(): boolean {
    return false;
  }

  inTransaction(): boolean {
    return this.inner.inTransaction();
  }

  startTransaction(): void {
    this.inner.startTransaction();
  }

  commitTransaction(): Promise<void> {
    return this.inner.commitTransaction();
  }

  abortTransaction(): Promise<void> {
    return this.inner.abortTransaction();
  }

  /** Runs `callback(session)` in a transaction: committed when it resolves, aborted when it throws. */
  withTransaction<T>(callback: (session: ClientSession) => Promise<T> | T, _options?: unknown): Promise<T> {
    if (typeof callback !== 'function') throw new DataError(2, 'BadValue', 'withTransaction needs a callback function');
    return this.inner.withTransaction(async () => callback(this));
  }

  endSession(): Promise<void> {
    return this.inner.endSession();
  }
}

export class MongoServiceClient {
  constructor(
    private readonly source: DataSource,
    private readonly system: boolean,
  ) {}

  db(name: unknown): MongoDatabase {
    return new MongoDatabase(this.source, checkName(name, 'database'), this.system);
  }

  startSession(options?: unknown): ClientSession {
    optionsObject(options, 'options');
    const inner = this.source.startSession();
    const facade = new ClientSession(inner);
    registerSession(facade, inner);
    return facade;
  }

  admin(): { getDBNames(): Promise<string[]> } {
    const source = this.source;
    const system = this.system;
    return {
      async getDBNames(): Promise<string[]> {
        if (!system) throw systemOnly('admin().getDBNames');
        return source.listDatabaseNames();
      },
    };
  }
}
