// Shared set-up for the data layer tests: a minimal app definition and a service client on a temp data dir.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AppDefinition, DataSourceDef } from '../../src/app/types';
import { createServiceClient } from '../../src/data';
import type { MongoServiceClient } from '../../src/data';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export function testApp(dataSources: DataSourceDef[] = [], dir = os.tmpdir()): AppDefinition {
  return {
    dir,
    appId: 'data-test',
    name: 'data-test',
    internalId: '',
    groupId: '',
    configVersion: 20210101,
    deployment: { model: 'GLOBAL', providerRegion: 'aws-us-east-1', location: 'US-VA' },
    environment: { tag: '', values: {} },
    values: {},
    secrets: {},
    functions: {},
    endpoints: [],
    dataSources,
    authProviders: {},
    customUserData: null,
    packageJsonPath: null,
    allowedRequestOrigins: [],
    problems: [],
  };
}

export function tempDataDir(prefix = 'atrium-data-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function systemClient(dataDir: string, serviceName = 'mongodb-atlas', app = testApp()): MongoServiceClient {
  const c = createServiceClient({ app, serviceName, dataDir, identity: { user: null, runAsSystem: true } });
  if (!c) throw new Error(`no data source ${serviceName}`);
  return c;
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
