// The app's identity and top-level settings (§2.1): which export generation this is, the client app id used
// in URLs, deployment, environment tag and allowed origins, from the root config file(s) and `.mdb/meta.json`.
import * as path from 'node:path';
import type { AppFiles } from './app-files';
import { FieldReader, isObject, type JsonObject } from './fields';
import type { ProblemList } from './problems';
import type { AppLayout } from './types';

/** Root config files, most authoritative first. */
export const ROOT_CONFIG_FILES = ['root_config.json', 'realm_config.json', 'config.json', 'stitch.json'] as const;
export const META_FILE = '.mdb/meta.json';

const DEFAULT_CONFIG_VERSION: Record<AppLayout, number> = {
  'appservices-cli': 20210101,
  'realm-cli-v2': 20210101,
  'realm-cli-v1': 20200603,
  stitch: 20180301,
  bare: 20210101,
};

export interface RootInfo {
  layout: AppLayout;
  appId: string;
  name: string;
  internalId: string;
  groupId: string;
  configVersion: number;
  deployment: { model: string; providerRegion: string; location: string };
  environmentTag: string;
  allowedRequestOrigins: string[];
  /** stitch.json / config.json `custom_user_data_config` (v1 layouts keep it in the root file). */
  legacyCustomUserData: { file: string; value: JsonObject } | null;
  /** root_config.json or .mdb/meta.json present: the generation that writes `https_endpoints/`. */
  isAppServicesCliExport: boolean;
}

/** True when the directory has anything an App Services export has; otherwise loadApp refuses it. */
export function looksLikeApp(files: AppFiles): boolean {
  if (ROOT_CONFIG_FILES.some((f) => files.isFile(f)) || files.isFile(META_FILE)) return true;
  return ['functions', 'http_endpoints', 'https_endpoints', 'services'].some((d) => files.isDir(d));
}

export function loadRootConfig(files: AppFiles, problems: ProblemList, environmentOverride: string | undefined): RootInfo {
  const configs: Array<{ file: string; fields: FieldReader }> = [];
  for (const file of ROOT_CONFIG_FILES) {
    if (!files.isFile(file)) continue;
    const value = files.readJson(file);
    if (value === undefined) continue; // parse error already reported
    if (!isObject(value)) {
      problems.error(file, undefined, 'must be a JSON object; ignored');
      continue;
    }
    configs.push({ file, fields: new FieldReader(value, problems, file, '') });
  }

  let meta: FieldReader | null = null;
  if (files.isFile(META_FILE)) {
    const value = files.readJson(META_FILE);
    if (isObject(value)) meta = new FieldReader(value, problems, META_FILE, '');
    else if (value !== undefined) problems.error(META_FILE, undefined, 'must be a JSON object; ignored');
  }

  const present = (f: string): boolean => files.isFile(f);
  const isAppServicesCliExport = present('root_config.json') || present(META_FILE);
  const layout: AppLayout = isAppServicesCliExport
    ? 'appservices-cli'
    : present('realm_config.json')
      ? 'realm-cli-v2'
      : present('config.json')
        ? 'realm-cli-v1'
        : present('stitch.json')
          ? 'stitch'
          : 'bare';

  /** The first root config that sets `key` (to a string), in precedence order. */
  const rootString = (key: string): string => {
    for (const c of configs) if (c.fields.has(key)) return c.fields.string(key);
    return '';
  };
  const rootNumber = (key: string): number | undefined => {
    for (const c of configs) {
      const v = c.fields.obj[key];
      if (typeof v === 'number' && Number.isInteger(v)) return v;
    }
    return undefined;
  };

  const name = rootString('name');
  const clientAppId = meta?.string('client_app_id') ?? '';
  const appId = clientAppId || rootString('app_id') || name || path.basename(files.root);
  const metaVersion = meta && typeof meta.obj.config_version === 'number' ? meta.obj.config_version : undefined;

  return {
    layout,
    appId,
    name: name || appId,
    internalId: meta?.string('app_id') ?? '',
    groupId: meta?.string('group_id') ?? '',
    configVersion: metaVersion ?? rootNumber('config_version') ?? DEFAULT_CONFIG_VERSION[layout],
    deployment: {
      model: rootString('deployment_model') || 'GLOBAL',
      providerRegion: rootString('provider_region'),
      location: rootString('location'),
    },
    environmentTag: environmentOverride ?? environmentTag(configs, problems),
    allowedRequestOrigins: allowedOrigins(configs, problems),
    legacyCustomUserData: legacyCustomUserData(configs),
    isAppServicesCliExport,
  };
}

/** `environment` from the most authoritative root file that sets it; a disagreeing file gets a warning. */
function environmentTag(configs: Array<{ file: string; fields: FieldReader }>, problems: ProblemList): string {
  const setters = configs.filter((c) => c.fields.has('environment'));
  const first = setters[0];
  if (!first) return '';
  const tag = first.fields.string('environment');
  for (const other of setters.slice(1)) {
    const otherTag = other.fields.string('environment');
    if (otherTag !== tag) {
      problems.warning(other.file, 'environment', `"${otherTag}" disagrees with ${first.file} ("${tag}"); using "${tag}" from ${first.file}`);
    }
  }
  return tag;
}

function allowedOrigins(configs: Array<{ file: string; fields: FieldReader }>, problems: ProblemList): string[] {
  for (const c of configs) {
    if (c.fields.has('allowed_request_origins')) return c.fields.stringArray('allowed_request_origins');
    // Stitch-era root files keep origins under `security`.
    const security = c.fields.has('security') ? c.fields.object('security') : {};
    if (Array.isArray(security.allowed_request_origins) || Array.isArray(security.allowed_origins)) {
      const key = Array.isArray(security.allowed_request_origins) ? 'allowed_request_origins' : 'allowed_origins';
      return new FieldReader(security, problems, c.file, 'security').stringArray(key);
    }
  }
  return [];
}

function legacyCustomUserData(configs: Array<{ file: string; fields: FieldReader }>): { file: string; value: JsonObject } | null {
  for (const c of configs) {
    const v = c.fields.obj.custom_user_data_config;
    if (isObject(v)) return { file: c.file, value: v };
  }
  return null;
}
