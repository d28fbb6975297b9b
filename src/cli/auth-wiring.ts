// Builds the endpoint authentication the server uses: the AuthService (users, providers, tokens, client API)
// over the platform store under --data-dir, running auth functions and scripts in the worker pool.
import type { AppDefinition } from '../app';
import { AuthService } from '../auth';
import type { EndpointAuth } from '../http';
import type { FunctionPool } from '../runtime';

export interface AuthWiringOptions {
  dataDir: string;
  mongodbUris: Record<string, string>;
  signingKey?: string;
  accessTokenTtlSec?: number;
  refreshTokenTtlSec?: number;
}

export async function createEndpointAuth(app: AppDefinition, pool: FunctionPool, opts: AuthWiringOptions): Promise<{ auth: EndpointAuth; close: () => Promise<void>; warnings: string[] }> {
  const service = new AuthService(app, {
    dataDir: opts.dataDir,
    runFunction: (inv) => pool.invoke(inv),
    mongodbUris: opts.mongodbUris,
    signingKey: opts.signingKey,
    accessTokenTtlSec: opts.accessTokenTtlSec,
    refreshTokenTtlSec: opts.refreshTokenTtlSec,
  });
  await service.init();
  return { auth: service, close: () => service.close(), warnings: service.warnings };
}
