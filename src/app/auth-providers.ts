// Authentication settings (§9.5, §9.6): `auth/providers.json` (object keyed by provider name), the legacy
// `auth_providers/<name>.json` files, and custom user data (`auth/custom_user_data.json`, or
// `custom_user_data_config` in a v1 root file).
import type { AppFiles } from './app-files';
import { FieldReader, hasOwn, isObject, putOwn, type JsonObject } from './fields';
import { fieldPath, type ProblemList } from './problems';
import type { TemplateExpander } from './templates';
import type { AuthProviderDef, CustomUserDataDef } from './types';

export interface LoadedProviders {
  providers: Record<string, AuthProviderDef>;
  /** Where each provider is written: file and the provider's field path in it (for problems). */
  definedIn: Map<string, { file: string; at: string }>;
}

export function loadAuthProviders(files: AppFiles, problems: ProblemList, templates: TemplateExpander): LoadedProviders {
  const providers: Record<string, AuthProviderDef> = {};
  const definedIn = new Map<string, { file: string; at: string }>();
  const add = (raw: unknown, file: string, at: string, fallbackName: string): void => {
    if (!isObject(raw)) {
      problems.error(file, at || undefined, 'must be an object; provider skipped');
      return;
    }
    const f = new FieldReader(templates.expand(raw, file, at) as JsonObject, problems, file, at);
    const name = f.string('name').trim() || fallbackName;
    const type = f.string('type').trim() || name;
    if (name === '') {
      problems.error(file, at || undefined, 'provider has no name or type; skipped');
      return;
    }
    if (hasOwn(providers, name)) {
      problems.error(file, f.path('name'), `provider "${name}" is already defined in ${definedIn.get(name)?.file}; this one is ignored`);
      return;
    }
    definedIn.set(name, { file, at });
    putOwn(providers, name, {
      name,
      type,
      disabled: f.bool('disabled'),
      config: f.object('config'),
      secretConfig: f.object('secret_config'),
      metadataFields: f.array('metadata_fields'),
    });
  };

  const file = 'auth/providers.json';
  if (files.isFile(file)) {
    const parsed = files.readJson(file);
    if (isObject(parsed)) {
      for (const [key, raw] of Object.entries(parsed)) add(raw, file, fieldPath(key), key);
    } else if (Array.isArray(parsed)) {
      parsed.forEach((raw, i) => add(raw, file, fieldPath(i), ''));
    } else if (parsed !== undefined) {
      problems.error(file, undefined, 'must be a JSON object keyed by provider name; no providers loaded');
    }
  }
  for (const name of files.list('auth_providers').files) {
    if (!name.endsWith('.json')) continue;
    const legacyFile = `auth_providers/${name}`;
    const parsed = files.readJson(legacyFile);
    if (parsed !== undefined) add(parsed, legacyFile, '', name.slice(0, -'.json'.length));
  }
  return { providers, definedIn };
}

export function loadCustomUserData(
  files: AppFiles,
  problems: ProblemList,
  templates: TemplateExpander,
  legacyConfig: { file: string; value: JsonObject } | null,
  serviceNameById: Map<string, string>,
): { def: CustomUserDataDef; file: string; at: string } | null {
  const file = 'auth/custom_user_data.json';
  let source: { file: string; value: JsonObject } | null = null;
  if (files.isFile(file)) {
    const parsed = files.readJson(file);
    if (isObject(parsed)) source = { file, value: parsed };
    else if (parsed !== undefined) problems.error(file, undefined, 'must be a JSON object; custom user data is off');
  } else if (legacyConfig) {
    source = legacyConfig;
  }
  if (!source) return null;
  const at = source.file === file ? '' : 'custom_user_data_config';
  const f = new FieldReader(templates.expand(source.value, source.file, at) as JsonObject, problems, source.file, at);
  // v1 root files name the service and the creation function by id.
  let mongoServiceName = f.string('mongo_service_name');
  if (mongoServiceName === '' && f.has('mongo_service_id')) {
    const id = f.string('mongo_service_id');
    mongoServiceName = serviceNameById.get(id) ?? '';
    if (mongoServiceName === '' && f.bool('enabled')) {
      problems.error(source.file, f.path('mongo_service_id'), `no data source has id "${id}"; custom user data cannot be read`);
    }
  }
  const def: CustomUserDataDef = {
    enabled: f.bool('enabled'),
    mongoServiceName,
    databaseName: f.string('database_name'),
    collectionName: f.string('collection_name'),
    userIdField: f.string('user_id_field'),
    onUserCreationFunctionName: f.string('on_user_creation_function_name'),
  };
  if (def.enabled) {
    for (const [key, value] of [['mongo_service_name', def.mongoServiceName], ['database_name', def.databaseName], ['collection_name', def.collectionName], ['user_id_field', def.userIdField]]) {
      if (value === '' && !(key === 'mongo_service_name' && f.has('mongo_service_id'))) {
        problems.error(source.file, f.path(key as string), `custom user data is enabled but ${key} is empty`);
      }
    }
  }
  return { def, file: source.file, at };
}
