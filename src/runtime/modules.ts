// require() as functions see it (policies "What a function can reach", spec §4.2/§4.3):
// - allowed Node built-ins, as `x` or `node:x`, handed out as frozen views (globals/builtin-modules.ts);
// - refused built-ins throw "<module> is not supported in functions";
// - `fs` is read-only and confined to the app directory and the installed dependencies;
// - anything else is an npm package resolved ONLY from <dependenciesDir>/node_modules (never from Atrium's own
//   node_modules), subpaths included (`lodash/cloneDeep`).
// npm packages run as ordinary Node modules in the worker (their own require is Node's); what they can do is
// bounded by the worker hardening, not by this file.

import * as fs from 'node:fs';
import * as path from 'node:path';
import Module from 'node:module';
import { bareBuiltinName, builtinView, isAllowedBuiltin } from './globals/builtin-modules';
import { createReadonlyFs } from './globals/fs-readonly';

export { transformEsmImports } from './globals/esm-imports';

export interface FunctionRequireOptions {
  /** Absolute app directory: the only tree (with the installed dependencies) that fs may read. */
  appDir: string;
  /** Directory whose node_modules holds the app's installed npm dependencies, or null. */
  dependenciesDir: string | null;
  /**
   * Built-ins the sandbox provides itself, returned as they are: e.g. `{ process: <the process stand-in>,
   * timers: <the tracked timers>, console: <the captured console> }`, so that `require("process") === process`.
   */
  moduleOverrides?: Record<string, unknown>;
}

export class ModuleNotAvailableError extends Error {
  override name = 'ModuleNotAvailableError';
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The package a specifier names: `lodash/cloneDeep` -> `lodash`, `@octokit/request/x` -> `@octokit/request`. */
export function packageNameOf(id: string): string {
  const parts = id.split('/');
  return id.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function notInstalled(id: string): ModuleNotAvailableError {
  const pkg = packageNameOf(id);
  return new ModuleNotAvailableError(
    `Cannot find module '${id}': the npm package '${pkg}' is not installed for this app. ` +
      `Add it to "dependencies" in functions/package.json and restart Atrium so it installs it.`,
    'MODULE_NOT_FOUND',
  );
}

/** Used when the sandbox passes no `process` override: env-less, and nothing in it can affect the server. */
function fallbackProcess(appDir: string): Readonly<Record<string, unknown>> {
  const refuse = (name: string) => () => {
    throw new Error(`process.${name}() is not supported in functions`);
  };
  const hrtime = Object.assign((prev?: [number, number]) => process.hrtime(prev), { bigint: () => process.hrtime.bigint() });
  return Object.freeze({
    env: Object.freeze({}),
    argv: Object.freeze([]),
    platform: process.platform,
    arch: process.arch,
    version: process.version,
    versions: Object.freeze({ ...process.versions }),
    cwd: () => appDir,
    hrtime,
    memoryUsage: () => process.memoryUsage(),
    uptime: () => process.uptime(),
    nextTick: (fn: (...a: unknown[]) => void, ...args: unknown[]) => queueMicrotask(() => fn(...args)),
    exit: refuse('exit'),
    kill: refuse('kill'),
    abort: refuse('abort'),
    chdir: refuse('chdir'),
    dlopen: refuse('dlopen'),
    setuid: refuse('setuid'),
    setgid: refuse('setgid'),
  });
}

export function createFunctionRequire(opts: FunctionRequireOptions): (id: string) => unknown {
  const { appDir, dependenciesDir } = opts;
  const overrides = opts.moduleOverrides ?? {};
  const views = new Map<string, unknown>();
  const nodeModules = dependenciesDir ? path.join(dependenciesDir, 'node_modules') : null;
  // Rooted at the deps dir so Node's resolution (exports maps, main, subpaths) applies; the result is then
  // checked to be inside <deps>/node_modules, because Node would also walk up to parent node_modules folders.
  const depsRequire = dependenciesDir ? Module.createRequire(path.join(dependenciesDir, 'package.json')) : null;
  let realNodeModules: string | null = null;

  const view = (name: string, make: () => unknown): unknown => {
    if (!views.has(name)) views.set(name, make());
    return views.get(name);
  };

  const builtin = (name: string): unknown => {
    if (Object.prototype.hasOwnProperty.call(overrides, name)) return overrides[name];
    switch (name) {
      case 'fs':
        return view('fs', () => createReadonlyFs(appDir, dependenciesDir));
      case 'fs/promises':
        return (view('fs', () => createReadonlyFs(appDir, dependenciesDir)) as { promises: unknown }).promises;
      case 'process':
        return view('process', () => fallbackProcess(appDir));
      default:
        if (!isAllowedBuiltin(name)) throw new ModuleNotAvailableError(`${name} is not supported in functions`, 'ERR_UNSUPPORTED_MODULE');
        return view(name, () => builtinView(name));
    }
  };

  const insideDeps = (file: string): boolean => {
    if (!nodeModules) return false;
    realNodeModules ??= fs.existsSync(nodeModules) ? fs.realpathSync(nodeModules) : nodeModules;
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch {
      return false;
    }
    return real.startsWith(realNodeModules + path.sep);
  };

  const npm = (id: string): unknown => {
    if (!depsRequire) throw notInstalled(id);
    let resolved: string;
    try {
      resolved = depsRequire.resolve(id);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
        throw new ModuleNotAvailableError(`Cannot find module '${id}': the package '${packageNameOf(id)}' does not export this path`, code, { cause: e });
      }
      throw notInstalled(id);
    }
    if (Module.isBuiltin(resolved)) return builtin(bareBuiltinName(resolved));
    if (!insideDeps(resolved)) throw notInstalled(id);
    try {
      return depsRequire(resolved);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') {
        throw new ModuleNotAvailableError(
          `Cannot load '${id}' with require(): the package is an ES module${code === 'ERR_REQUIRE_ASYNC_MODULE' ? ' that uses top-level await' : ''}, ` +
            `which functions cannot load synchronously. Use a version of '${packageNameOf(id)}' that ships CommonJS.`,
          code,
          { cause: e },
        );
      }
      throw e;
    }
  };

  return function require(id: string): unknown {
    if (typeof id !== 'string' || id === '') throw new TypeError('require() expects a module name (a non-empty string)');
    const bare = bareBuiltinName(id);
    if (id.startsWith('node:') || Module.isBuiltin(bare)) {
      if (!Module.isBuiltin(id) && !Module.isBuiltin(bare)) throw new ModuleNotAvailableError(`${bare} is not supported in functions`, 'ERR_UNSUPPORTED_MODULE');
      return builtin(bare);
    }
    if (id.startsWith('./') || id.startsWith('../') || id === '.' || id === '..' || path.isAbsolute(id)) {
      throw new ModuleNotAvailableError(
        `require('${id}'): functions cannot require files; call other functions with context.functions.execute() or use an npm package`,
        'ERR_UNSUPPORTED_MODULE',
      );
    }
    return npm(id);
  };
}
