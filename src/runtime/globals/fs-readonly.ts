// `require("fs")` for functions: read-only, and only inside the app directory and its installed dependencies
// (policies "What a function can reach"). Relative paths are relative to the app directory. Symlinks are
// resolved before the check, so a link inside the app pointing elsewhere is refused like `..` is.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export class FsAccessError extends Error {
  override name = 'FsAccessError';
  readonly code = 'EACCES';
}

function realpathOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/** The real path of `p` when it exists, else the real path of its nearest existing ancestor joined with the rest. */
function realTarget(p: string): string {
  let dir = p;
  const rest: string[] = [];
  for (;;) {
    try {
      const real = fs.realpathSync(dir);
      return rest.length ? path.join(real, ...rest.reverse()) : real;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      const parent = path.dirname(dir);
      if (parent === dir) return p;
      rest.push(path.basename(dir));
      dir = parent;
    }
  }
}

export function createReadonlyFs(appDir: string, dependenciesDir: string | null): Readonly<Record<string, unknown>> {
  const roots = [appDir, ...(dependenciesDir ? [dependenciesDir] : [])].map(realpathOrSelf);
  const shownRoots = [appDir, ...(dependenciesDir ? [dependenciesDir] : [])].join(' or ');

  const confine = (fn: string, p: unknown): string => {
    let s: string;
    if (typeof p === 'string') s = p;
    else if (Buffer.isBuffer(p)) s = p.toString('utf8');
    else if (p instanceof URL || (p !== null && typeof p === 'object' && typeof (p as URL).href === 'string' && (p as URL).protocol === 'file:')) {
      s = fileURLToPath((p as URL).href);
    } else {
      throw new TypeError(`fs.${fn}: the path must be a string, Buffer or file: URL (file descriptors are not supported in functions)`);
    }
    if (s.includes('\0')) throw new TypeError(`fs.${fn}: the path contains a NUL byte`);
    const lexical = path.resolve(appDir, s);
    const real = realTarget(lexical);
    if (!roots.some((r) => within(r, real))) {
      throw new FsAccessError(`fs.${fn}: access to ${JSON.stringify(s)} is not allowed: functions may only read files inside ${shownRoots}`);
    }
    return lexical;
  };

  const readonly = {
    readFileSync: (p: unknown, options?: unknown) => fs.readFileSync(confine('readFileSync', p), options as fs.ObjectEncodingOptions),
    statSync: (p: unknown, options?: unknown) => fs.statSync(confine('statSync', p), options as fs.StatSyncOptions),
    lstatSync: (p: unknown, options?: unknown) => fs.lstatSync(confine('lstatSync', p), options as fs.StatSyncOptions),
    accessSync: (p: unknown, mode?: number) => {
      const target = confine('accessSync', p);
      if (mode !== undefined && (mode & fs.constants.W_OK) !== 0) throw new FsAccessError('fs.accessSync: functions have no write access');
      fs.accessSync(target, mode);
    },
    existsSync: (p: unknown) => fs.existsSync(confine('existsSync', p)),
    constants: fs.constants,
    promises: Object.freeze({
      readFile: async (p: unknown, options?: unknown) => fs.promises.readFile(confine('promises.readFile', p), options as fs.ObjectEncodingOptions),
      stat: async (p: unknown) => fs.promises.stat(confine('promises.stat', p)),
      lstat: async (p: unknown) => fs.promises.lstat(confine('promises.lstat', p)),
      access: async (p: unknown, mode?: number) => {
        const target = confine('promises.access', p);
        if (mode !== undefined && (mode & fs.constants.W_OK) !== 0) throw new FsAccessError('fs.promises.access: functions have no write access');
        return fs.promises.access(target, mode);
      },
    }),
  };
  // Any other fs member (writeFileSync, unlinkSync, createWriteStream, ...) fails with a clear message.
  return new Proxy(Object.freeze(readonly), {
    get(target, key, receiver) {
      if (typeof key === 'string' && !(key in target) && key in fs && typeof (fs as Record<string, unknown>)[key] === 'function') {
        return () => {
          throw new FsAccessError(`fs.${key} is not supported in functions: fs is read-only (readFileSync, statSync, lstatSync, accessSync, existsSync)`);
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });
}
