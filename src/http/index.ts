export { startServer, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONCURRENCY } from './server';
export type { AtriumServer, ServerOptions, FunctionInvoker } from './server';
export type { EndpointAuth, AuthOutcome, ClientApiResponse } from './identity';
export { SystemOnlyAuth } from './identity';
export { negotiateReturnType } from './negotiate';
export { validateRequest } from './validation';
