// Who runs an endpoint's function. The full credential handling lives in auth/ (AuthService); the HTTP layer only
// depends on this small interface so it can run with or without the auth module.
import type { EndpointDef, FunctionDef } from '../app';
import type { ExecutionIdentity, IncomingRequestData } from '../runtime';
import { firstHeader } from './request-data';

export type AuthOutcome =
  | { ok: true; identity: ExecutionIdentity }
  | { ok: false; status: number; code: string; message: string; headers?: Array<[string, string]> };

export interface ClientApiResponse {
  status: number;
  headers: Array<[string, string]>;
  body: unknown;
  /** Pre-encoded body (e.g. canonical EJSON of a function result); wins over `body`. */
  rawBody?: Uint8Array | string;
}

export interface EndpointAuth {
  /** May answer synchronously (run-as-system functions need no lookup): the HTTP thread saves a promise turn. */
  resolveEndpointIdentity(fn: FunctionDef, endpoint: EndpointDef, req: IncomingRequestData): AuthOutcome | Promise<AuthOutcome>;
  checkCanEvaluate(fn: FunctionDef, identity: ExecutionIdentity, req: IncomingRequestData): Promise<AuthOutcome>;
  handleClientApi(method: string, path: string, req: IncomingRequestData): Promise<ClientApiResponse | null>;
}

const SYSTEM: ExecutionIdentity = Object.freeze({ user: null, runAsSystem: true });
const SYSTEM_OUTCOME: AuthOutcome = Object.freeze({ ok: true, identity: SYSTEM });
const CREDENTIAL_HEADERS = ['authorization', 'email', 'password', 'apikey', 'api-key', 'jwttokenstring'];

/**
 * The identity rules that need no user store: run-as-system functions, and the §8.3 error for an
 * application-auth endpoint called without credentials. Used when no AuthService is configured.
 */
export class SystemOnlyAuth implements EndpointAuth {
  resolveEndpointIdentity(fn: FunctionDef, _ep: EndpointDef, req: IncomingRequestData): AuthOutcome {
    if (fn.runAsSystem) return SYSTEM_OUTCOME;
    const hasCredentials = CREDENTIAL_HEADERS.some((h) => firstHeader(req.headers, h) !== undefined);
    if (!hasCredentials) {
      return { ok: false, status: 400, code: 'InvalidParameter', message: 'no authentication methods were specified' };
    }
    return { ok: false, status: 401, code: 'InvalidSession', message: 'invalid session: error finding user for endpoint' };
  }

  async checkCanEvaluate(_fn: FunctionDef, identity: ExecutionIdentity): Promise<AuthOutcome> {
    return { ok: true, identity };
  }

  async handleClientApi(): Promise<ClientApiResponse | null> {
    return null;
  }
}
