// Read access to one app directory by relative path ('/'-separated). Failures to read or parse become
// problems naming the file; callers get `undefined` and carry on with the rest of the app.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseJsonText } from './json-text';
import type { ProblemList } from './problems';

export class AppFiles {
  constructor(readonly root: string, readonly problems: ProblemList) {}

  abs(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, ...rel.split('/'));
  }

  isFile(rel: string): boolean {
    return statOrNull(this.abs(rel))?.isFile() ?? false;
  }

  isDir(rel: string): boolean {
    return statOrNull(this.abs(rel))?.isDirectory() ?? false;
  }

  /** Names of the entries of a directory, sorted so loading is deterministic; [] when it is missing. */
  list(rel: string): { files: string[]; dirs: string[] } {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(this.abs(rel), { withFileTypes: true });
    } catch (err) {
      if (!isNotFound(err)) this.problems.error(rel || '.', undefined, `cannot read directory: ${errorText(err)}`);
      return { files: [], dirs: [] };
    }
    const files: string[] = [];
    const dirs: string[] = [];
    for (const e of entries) {
      // Follow symlinks the way a user expects: a link to a directory is a directory.
      const kind = e.isSymbolicLink() ? statOrNull(this.abs(join(rel, e.name))) : e;
      if (kind?.isDirectory()) dirs.push(e.name);
      else if (kind?.isFile()) files.push(e.name);
    }
    files.sort();
    dirs.sort();
    return { files, dirs };
  }

  readText(rel: string): string | undefined {
    try {
      return fs.readFileSync(this.abs(rel), 'utf8');
    } catch (err) {
      this.problems.error(rel, undefined, `cannot read file: ${errorText(err)}`);
      return undefined;
    }
  }

  /** Parsed JSON, or undefined (with an error problem giving the parse position) when unreadable or invalid. */
  readJson(rel: string): unknown {
    const text = this.readText(rel);
    if (text === undefined) return undefined;
    const parsed = parseJsonText(text);
    if (!parsed.ok) {
      this.problems.error(rel, undefined, parsed.message);
      return undefined;
    }
    return parsed.value;
  }

  /** A quiet read for files whose problems are reported elsewhere (or do not matter): undefined on any failure. */
  peekJson(rel: string): unknown {
    try {
      const parsed = parseJsonText(fs.readFileSync(this.abs(rel), 'utf8'));
      return parsed.ok ? parsed.value : undefined;
    } catch {
      return undefined;
    }
  }

  /** readJson for a file that is optional: undefined without a problem when it does not exist. */
  readJsonIfExists(rel: string): unknown {
    return this.isFile(rel) ? this.readJson(rel) : undefined;
  }
}

export function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}

export function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return err instanceof Error ? err.message : String(err);
}
