// Parts of an export Atrium does not serve. Each section that is present gets exactly one warning, so a
// user knows what will not run (realm-cli writes graphql/ and sync/ for every app, so those warn often).
import type { AppFiles } from './app-files';
import { isObject } from './fields';
import { DATA_SOURCE_TYPES } from './data-sources';
import type { ProblemList } from './problems';

export const UNSUPPORTED_SECTIONS = ['triggers', 'sync', 'graphql', 'hosting', 'log_forwarders'];

export function warnUnsupportedSections(files: AppFiles, problems: ProblemList): void {
  for (const name of UNSUPPORTED_SECTIONS) {
    if (files.isDir(name)) problems.warning(`${name}/`, undefined, `${name}/ is not supported by Atrium and is ignored`);
  }
  for (const dir of files.list('services').dirs) {
    const raw = files.peekJson(`services/${dir}/config.json`);
    const type = isObject(raw) && typeof raw.type === 'string' ? raw.type : '';
    if (type === '' || type === 'http' || DATA_SOURCE_TYPES.includes(type)) continue;
    const webhooks = files.isDir(`services/${dir}/incoming_webhooks`)
      ? '; its incoming webhooks are still served, with the raw HTTP request as argument (App Services gave them a pre-parsed body)'
      : '';
    problems.warning(`services/${dir}/`, undefined, `the legacy "${type}" service is not supported by Atrium and is ignored${webhooks}`);
  }
}
