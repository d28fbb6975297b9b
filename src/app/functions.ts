// Functions (§4): the manifest `functions/config.json` plus every source under `functions/` (recursive,
// node_modules skipped). Names are paths relative to functions/ without `.js` (`utils/add`), so
// `endpoint/hello.js` and `endpoint/hello/latest.js` are two functions. The legacy layout
// `functions/<name>/{config.json,source.js}` is read too. Sources are kept exactly as written.
import type { AppFiles } from './app-files';
import { join } from './app-files';
import { FieldReader, hasOwn, isObject, putOwn } from './fields';
import { fieldPath, type ProblemList } from './problems';
import type { TemplateExpander } from './templates';
import type { AppLayout, FunctionDef } from './types';

const MANIFEST = 'functions/config.json';

export interface LoadedFunctions {
  functions: Record<string, FunctionDef>;
  packageJsonPath: string | null;
}

/** A function's settings from a config object (manifest entry or legacy per-function config.json). */
export function functionDef(fields: FieldReader, name: string, file: string, source: string): FunctionDef {
  return {
    name,
    file,
    source,
    private: fields.bool('private'),
    runAsSystem: fields.bool('run_as_system'),
    runAsUserId: fields.string('run_as_user_id'),
    runAsUserIdScriptSource: fields.string('run_as_user_id_script_source'),
    canEvaluate: fields.expression('can_evaluate'),
    disableArgLogs: fields.bool('disable_arg_logs'),
  };
}

/** Defaults for a source file no config mentions: public, Application authentication (§4.1). */
export function defaultFunctionDef(name: string, file: string, source: string): FunctionDef {
  return { name, file, source, private: false, runAsSystem: false, runAsUserId: '', runAsUserIdScriptSource: '', canEvaluate: {}, disableArgLogs: false };
}

export function loadFunctions(files: AppFiles, problems: ProblemList, templates: TemplateExpander, layout: AppLayout): LoadedFunctions {
  const functions: Record<string, FunctionDef> = {};
  const packageJsonPath = files.isFile('functions/package.json') ? files.abs('functions/package.json') : null;
  if (!files.isDir('functions')) return { functions, packageJsonPath };

  const sources = new SourceFiles(files);
  const claimed = new Set<string>(); // source files (relative to the app dir) already bound to a function

  const add = (def: FunctionDef): void => {
    putOwn(functions, def.name, def);
    claimed.add(def.file);
  };

  // 1. The manifest.
  if (files.isFile(MANIFEST)) {
    const manifest = files.readJson(MANIFEST);
    if (manifest !== undefined && !Array.isArray(manifest)) {
      problems.error(MANIFEST, undefined, 'must be a JSON array of function configs; ignored');
    } else if (Array.isArray(manifest)) {
      manifest.forEach((raw, i) => {
        if (!isObject(raw)) {
          problems.error(MANIFEST, fieldPath(i), 'must be an object; entry skipped');
          return;
        }
        const entry = templates.expand(raw, MANIFEST, fieldPath(i)) as Record<string, unknown>;
        const fields = new FieldReader(entry, problems, MANIFEST, fieldPath(i));
        const name = fields.string('name').trim();
        if (name === '') {
          problems.error(MANIFEST, fieldPath(i, 'name'), 'function name is missing; entry skipped');
          return;
        }
        if (hasOwn(functions, name)) {
          problems.error(MANIFEST, fieldPath(i, 'name'), `function "${name}" is listed more than once; the first entry is used`);
          return;
        }
        const file = sources.find(name);
        if (!file) {
          problems.error(MANIFEST, fieldPath(i, 'name'), `function "${name}" has no source file (expected functions/${name}.js); not loaded`);
          return;
        }
        const source = files.readText(file);
        if (source !== undefined) add(functionDef(fields, name, file, source));
      });
    }
  }

  // 2. Legacy per-function folders: functions/<name>/{config.json,source.js}.
  for (const dir of sources.legacyDirs) {
    const file = `functions/${join(dir, 'source.js')}`;
    if (claimed.has(file)) continue;
    const configFile = `functions/${join(dir, 'config.json')}`;
    const raw = files.readJson(configFile);
    let fields: FieldReader;
    if (isObject(raw)) {
      fields = new FieldReader(templates.expand(raw, configFile) as Record<string, unknown>, problems, configFile, '');
    } else {
      if (raw !== undefined) problems.error(configFile, undefined, 'must be a JSON object; the function gets default settings');
      fields = new FieldReader({}, problems, configFile, '');
    }
    const name = fields.string('name').trim() || dir;
    if (hasOwn(functions, name)) {
      problems.error(configFile, 'name', `function "${name}" is already defined by ${functions[name]?.file}; this one is ignored`);
      claimed.add(file);
      continue;
    }
    const source = files.readText(file);
    if (source !== undefined) add(functionDef(fields, name, file, source));
  }

  // 3. Sources nobody configured: loaded with defaults, as App Services does on import.
  const legacyLayout = layout === 'stitch' || layout === 'realm-cli-v1';
  for (const rel of sources.jsFiles) {
    const file = `functions/${rel}`;
    if (claimed.has(file)) continue;
    let name = rel.slice(0, -'.js'.length);
    if (legacyLayout && name.endsWith('/source')) name = name.slice(0, -'/source'.length);
    if (hasOwn(functions, name)) continue; // e.g. a stale copy next to the configured file
    const source = files.readText(file);
    if (source !== undefined) add(defaultFunctionDef(name, file, source));
  }

  return { functions, packageJsonPath };
}

/** Every .js file under functions/ (relative to functions/), and the folders in the legacy layout. */
class SourceFiles {
  readonly jsFiles: string[] = [];
  readonly legacyDirs: string[] = [];
  private readonly jsSet = new Set<string>();

  constructor(files: AppFiles) {
    const walk = (rel: string): void => {
      const { files: names, dirs } = files.list(join('functions', rel));
      for (const n of names) {
        if (n.endsWith('.js')) this.jsFiles.push(join(rel, n));
      }
      if (rel !== '' && names.includes('source.js') && names.includes('config.json')) this.legacyDirs.push(rel);
      for (const d of dirs) {
        if (d === 'node_modules' || d.startsWith('.')) continue;
        walk(join(rel, d));
      }
    };
    walk('');
    for (const f of this.jsFiles) this.jsSet.add(f);
  }

  /** The source file for a manifest name, relative to the app dir: `<name>.js`, else legacy `<name>/source.js`. */
  find(name: string): string | undefined {
    if (name.split('/').some((seg) => seg === '..' || seg === '.' || seg === '')) return undefined;
    if (this.jsSet.has(`${name}.js`)) return `functions/${name}.js`;
    if (this.jsSet.has(`${name}/source.js`)) return `functions/${name}/source.js`;
    return undefined;
  }
}
