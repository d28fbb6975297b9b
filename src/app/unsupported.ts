// Parts of an export Atrium does not serve. Each one in use gets exactly one warning, so a user knows what
// will not run; the files realm-cli writes for every app when a feature is off do not count as "in use".
import type { AppFiles } from './app-files';
import { isObject } from './fields';
import { DATA_SOURCE_TYPES } from './data-sources';
import type { ProblemList } from './problems';

type InUse = (files: AppFiles) => boolean;

const SECTIONS: Array<[string, InUse]> = [
  ['triggers', (files) => hasFilesOtherThan(files, 'triggers', [])],
  ['sync', (files) => hasFilesOtherThan(files, 'sync', ['config.json']) || syncEnabled(files)],
  // graphql/config.json is written for every app; custom resolvers are what an app adds.
  ['graphql', (files) => hasFilesOtherThan(files, 'graphql', ['config.json'])],
  ['hosting', (files) => hasFilesOtherThan(files, 'hosting', ['config.json', 'metadata.json']) || hostingEnabled(files)],
  ['log_forwarders', (files) => hasFilesOtherThan(files, 'log_forwarders', [])],
];

export function warnUnsupportedSections(files: AppFiles, problems: ProblemList): void {
  for (const [name, inUse] of SECTIONS) {
    if (files.isDir(name) && inUse(files)) problems.warning(`${name}/`, undefined, `${name}/ is not supported by Atrium and is ignored`);
  }
  for (const dir of files.list('services').dirs) {
    const raw = files.peekJson(`services/${dir}/config.json`);
    const type = isObject(raw) && typeof raw.type === 'string' ? raw.type : '';
    if (type === '' || type === 'http' || DATA_SOURCE_TYPES.includes(type)) continue;
    const webhooks = files.isDir(`services/${dir}/incoming_webhooks`)
      ? ' Its incoming webhooks are still served, with the raw HTTP request as argument (App Services gave them a pre-parsed body).'
      : '';
    problems.warning(`services/${dir}/`, undefined, `the legacy "${type}" service is not supported by Atrium and is ignored.${webhooks}`);
  }
}

/** True when the folder (recursively) holds a file other than the given top-level names. */
function hasFilesOtherThan(files: AppFiles, dir: string, defaults: string[]): boolean {
  const { files: names, dirs } = files.list(dir);
  if (names.some((n) => !defaults.includes(n))) return true;
  return dirs.some((d) => hasFilesOtherThan(files, `${dir}/${d}`, []));
}

function syncEnabled(files: AppFiles): boolean {
  const raw = files.peekJson('sync/config.json');
  if (!isObject(raw)) return false;
  return (typeof raw.state === 'string' && raw.state !== '' && raw.state !== 'disabled') || isObject(raw.flexible_sync) || isObject(raw.partition);
}

function hostingEnabled(files: AppFiles): boolean {
  const raw = files.peekJson('hosting/config.json');
  return isObject(raw) && raw.enabled === true;
}
