// Chooses the endpoint authentication the server uses.
import type { AppDefinition } from '../app';
import { SystemOnlyAuth } from '../http';
import type { EndpointAuth } from '../http';
import type { FunctionPool } from '../runtime';

export async function createEndpointAuth(app: AppDefinition, dataDir: string, pool: FunctionPool): Promise<EndpointAuth> {
  void app; void dataDir; void pool;
  return new SystemOnlyAuth();
}
