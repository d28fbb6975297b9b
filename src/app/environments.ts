// The selected environment (§2.3): tag from the root config (or --environment), values from
// environments/<tag>.json (`""` -> no-environment.json). Read at runtime as context.environment.
import type { AppFiles } from './app-files';
import { FieldReader, isObject } from './fields';
import type { ProblemList } from './problems';

export const KNOWN_ENVIRONMENTS = ['', 'development', 'testing', 'qa', 'production'];

export interface LoadedEnvironment {
  tag: string;
  values: Record<string, unknown>;
  /** The environment file consulted, relative to the app dir (it may not exist). */
  file: string;
}

export function loadEnvironment(files: AppFiles, problems: ProblemList, tag: string): LoadedEnvironment {
  const file = `environments/${tag === '' ? 'no-environment' : tag}.json`;
  if (!/^[A-Za-z0-9_-]*$/.test(tag)) {
    problems.error('environments', undefined, `environment "${tag}" is not a valid environment name; no environment values are used`);
    return { tag, values: {}, file };
  }
  if (!KNOWN_ENVIRONMENTS.includes(tag)) {
    problems.warning(file, undefined, `environment "${tag}" is not one of App Services' names (${KNOWN_ENVIRONMENTS.filter(Boolean).join(', ')}); using it anyway`);
  }
  if (!files.isFile(file)) {
    if (tag !== '' && files.isDir('environments')) {
      problems.warning(file, undefined, `environment "${tag}" is selected but this file does not exist; context.environment.values is empty`);
    }
    return { tag, values: {}, file };
  }
  const parsed = files.readJson(file);
  if (parsed === undefined) return { tag, values: {}, file };
  if (!isObject(parsed)) {
    problems.error(file, undefined, 'must be a JSON object like {"values": {...}}; ignored');
    return { tag, values: {}, file };
  }
  return { tag, values: new FieldReader(parsed, problems, file, '').object('values'), file };
}
