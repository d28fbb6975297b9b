// Shared pieces of the rules tests: a minimal AppDefinition with given rules, and App Services service clients
// over the real embedded store (one temp data dir per test file) for a user or the system.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AppDefinition, DataSourceDef } from '../../src/app/types';
import { MongoServiceClient, openDataSource } from '../../src/data';
import { wrapWithRules } from '../../src/data/rules';
import type { RulesCallerExtras } from '../../src/data/rules';
import type { UserInfo } from '../../src/runtime/types';

export interface RulesSpec {
  defaultRule?: unknown;
  /** "db/coll" -> rules.json and/or schema.json contents. */
  collections?: Record<string, { rules?: unknown; schema?: unknown }>;
}

export function appWithRules(spec: RulesSpec, extra: Partial<AppDefinition> = {}): AppDefinition {
  const collections: DataSourceDef['collections'] = {};
  for (const [key, c] of Object.entries(spec.collections ?? {})) {
    const [database, collection] = key.split('/');
    collections[key] = {
      database,
      collection,
      ...(c.rules !== undefined ? { rules: c.rules, rulesFile: `data_sources/mongodb-atlas/${key}/rules.json` } : {}),
      ...(c.schema !== undefined ? { schema: c.schema, schemaFile: `data_sources/mongodb-atlas/${key}/schema.json` } : {}),
    };
  }
  const ds: DataSourceDef = { name: 'mongodb-atlas', type: 'mongodb-atlas', config: {}, definedIn: 'data_sources/mongodb-atlas/config.json', collections };
  if (spec.defaultRule !== undefined) ds.defaultRule = spec.defaultRule;
  return {
    dir: '/nonexistent',
    appId: 'rules-test',
    name: 'rules-test',
    internalId: '',
    groupId: '',
    configVersion: 20210101,
    deployment: { model: 'GLOBAL', providerRegion: 'aws-us-east-1', location: 'US-VA' },
    environment: { tag: 'production', values: { region: 'eu' } },
    values: { adminIds: ['admin-1'] },
    secrets: {},
    functions: {},
    endpoints: [],
    dataSources: [ds],
    authProviders: {},
    customUserData: null,
    packageJsonPath: null,
    allowedRequestOrigins: [],
    problems: [],
    ...extra,
  };
}

export function user(id: string, extra: Partial<UserInfo> = {}): UserInfo {
  return { id, type: 'normal', data: { email: `${id}@example.com` }, custom_data: {}, identities: [{ id: `${id}-ident`, provider_type: 'local-userpass' }], ...extra };
}

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-rules-'));
}

/** The service client a function running as `who` gets (rules enforced). */
export function clientFor(app: AppDefinition, dataDir: string, who: UserInfo | null, extras: RulesCallerExtras = {}): MongoServiceClient {
  const source = openDataSource('mongodb-atlas', dataDir);
  return new MongoServiceClient(wrapWithRules(source, app, 'mongodb-atlas', { user: who, runAsSystem: false }, extras), false);
}

/** The service client of a system function (no rules). */
export function systemClient(app: AppDefinition, dataDir: string): MongoServiceClient {
  const source = openDataSource('mongodb-atlas', dataDir);
  return new MongoServiceClient(wrapWithRules(source, app, 'mongodb-atlas', { user: null, runAsSystem: true }), true);
}

/** Resolves with the rejection of `p` (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: number; codeName?: string; ruleDetail?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: number; codeName?: string; ruleDetail?: string };
  }
  throw new Error('expected the operation to be refused, but it succeeded');
}
