// PLACEHOLDER (owned by the globals work): require() as functions see it (policies: built-ins allowed/refused, fs read-only, npm deps).
export interface FunctionRequireOptions {
  /** Absolute app directory: the only tree (with the installed dependencies) that fs may read. */
  appDir: string;
  /** Directory whose node_modules holds the app's installed npm dependencies, or null. */
  dependenciesDir: string | null;
}
export function createFunctionRequire(opts: FunctionRequireOptions): (id: string) => unknown {
  void opts;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return (id: string) => require(id.startsWith('node:') ? id : `node:${id}`);
}
