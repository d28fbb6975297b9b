// Public face of the function runtime: the worker pool the HTTP layer and auth call, and the dependency installer.
export { FunctionPool } from './pool';
export type { PoolOptions, PoolStats } from './pool';
export { ensureDependencies } from './dependencies';
export { freezeData } from './freeze';
export * from './types';
