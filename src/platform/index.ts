// Platform state shared by the other folders: request log records, the user/key/session store, and the error type
// every layer throws to answer as App Services did.
export * from './logs';
export * from './store';
export * from './store-sqlite';
export { ServiceError } from './service-error';
