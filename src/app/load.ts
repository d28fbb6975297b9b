// loadApp: reads an exported App Services app directory once into an AppDefinition (plain data).
// It throws only when there is no app to load; everything else is a problem entry, and whatever is valid
// is still loaded, so a server can serve the good parts and list what to fix.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AppFiles } from './app-files';
import { loadAuthProviders, loadCustomUserData, type LoadedProviders } from './auth-providers';
import { checkAuthFunctions, checkDataApi, checkEndpoints, checkProviderSecrets } from './checks';
import { loadDataApiConfig } from './data-api';
import { loadDataSources, type LoadedDataSources } from './data-sources';
import { chooseEndpointDir, loadEndpoints } from './endpoints';
import { loadEnvironment } from './environments';
import { putOwn, hasOwn } from './fields';
import { loadFunctions, type LoadedFunctions } from './functions';
import { loadLegacyWebhooks, type LegacyWebhook } from './legacy-webhooks';
import { ProblemList } from './problems';
import { loadRootConfig, looksLikeApp, type RootInfo } from './root-config';
import { SecretLookup } from './secrets';
import { TemplateExpander } from './templates';
import type { AppDefinition, EndpointDef, LoadOptions } from './types';
import { warnUnsupportedSections } from './unsupported';
import { loadValues } from './values';

export function loadApp(dir: string, opts: LoadOptions = {}): AppDefinition {
  const root = path.resolve(dir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch {
    throw new Error(`app directory ${dir} does not exist`);
  }
  if (!stat.isDirectory()) throw new Error(`app directory ${dir} is not a directory`);

  const problems = new ProblemList();
  const files = new AppFiles(root, problems);
  if (!looksLikeApp(files)) {
    throw new Error(
      `${dir} does not contain an App Services app: none of root_config.json, realm_config.json, config.json, stitch.json, ` +
        '.mdb/meta.json, functions/, http_endpoints/, https_endpoints/ or services/ is there',
    );
  }
  const secrets = new SecretLookup(opts.secrets ?? {});
  // A bug or an unreadable corner in one section must not cost the rest of the app.
  const guard = <T>(section: string, fallback: T, load: () => T): T => {
    try {
      return load();
    } catch (err) {
      problems.error(section, undefined, `could not be loaded: ${err instanceof Error ? err.message : String(err)}`);
      return fallback;
    }
  };

  const info: RootInfo = guard('root config', fallbackRoot(root), () => loadRootConfig(files, problems, opts.environment));
  const env = guard('environments/', { tag: info.environmentTag, values: {}, file: 'environments' }, () => loadEnvironment(files, problems, info.environmentTag));
  const templates = new TemplateExpander(env.values, env.file, problems);

  const fns: LoadedFunctions = guard('functions/', { functions: {}, packageJsonPath: null }, () => loadFunctions(files, problems, templates, info.layout));
  const endpointDir = guard('endpoints', null, () => chooseEndpointDir(files, problems, info.isAppServicesCliExport));
  const endpoints: EndpointDef[] = endpointDir ? guard(`${endpointDir}/`, [], () => loadEndpoints(files, problems, templates, endpointDir)) : [];
  const dataApi = guard('data_api_config.json', null, () => loadDataApiConfig(files, problems, templates, endpointDir));
  const webhookBases = [...(endpointDir ? [endpointDir] : []), 'services'];
  const webhooks = guard('incoming_webhooks', [] as LegacyWebhook[], () => loadLegacyWebhooks(files, problems, templates, webhookBases));
  mergeLegacyWebhooks(webhooks, endpoints, fns, problems);

  const values = guard('values/', {}, () => loadValues(files, problems, templates, secrets));
  const data: LoadedDataSources = guard('data_sources/', { dataSources: [], nameById: new Map() }, () => loadDataSources(files, problems, templates));
  const auth: LoadedProviders = guard('auth/', { providers: {}, definedIn: new Map() }, () => loadAuthProviders(files, problems, templates));
  const customUserData = guard('auth/custom_user_data.json', null, () =>
    loadCustomUserData(files, problems, templates, info.legacyCustomUserData, data.nameById),
  );
  guard('unsupported sections', undefined, () => warnUnsupportedSections(files, problems));

  checkEndpoints(endpoints, fns.functions, secrets, problems);
  checkDataApi(dataApi, secrets, problems);
  checkProviderSecrets(auth, secrets, problems);
  checkAuthFunctions(auth, customUserData, fns.functions, problems);

  // Secrets under the names the app uses, so consumers look them up exactly (ATRIUM_SECRET_MY_KEY -> "my-key").
  const appSecrets: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.secrets ?? {})) putOwn(appSecrets, k, v);
  for (const [k, v] of Object.entries(secrets.resolved)) putOwn(appSecrets, k, v);

  return {
    dir: root,
    appId: info.appId,
    name: info.name,
    internalId: info.internalId,
    groupId: info.groupId,
    configVersion: info.configVersion,
    deployment: info.deployment,
    environment: { tag: env.tag, values: env.values },
    values,
    secrets: appSecrets,
    functions: fns.functions,
    endpoints,
    dataSources: data.dataSources,
    authProviders: auth.providers,
    customUserData: customUserData?.def ?? null,
    packageJsonPath: fns.packageJsonPath,
    allowedRequestOrigins: info.allowedRequestOrigins,
    problems: problems.items,
    dataApi,
    layout: info.layout,
  };
}

/**
 * Converted apps list a webhook both as an explicit endpoint and under incoming_webhooks: the explicit
 * endpoint wins and also answers the old webhook URL. A webhook's function is added when no config defines it.
 */
function mergeLegacyWebhooks(webhooks: LegacyWebhook[], endpoints: EndpointDef[], fns: LoadedFunctions, problems: ProblemList): void {
  for (const hook of webhooks) {
    const sameRoute = endpoints.find((e) => e.route === hook.endpoint.route);
    if (!sameRoute) {
      endpoints.push(hook.endpoint);
    } else if (!sameRoute.legacyWebhook && hook.endpoint.legacyWebhook) {
      // The explicit endpoint's own secret_name stays authoritative; the webhook's plain-text secret is kept
      // only when the endpoint names none.
      const { service, name, secretValue } = hook.endpoint.legacyWebhook;
      sameRoute.legacyWebhook = sameRoute.secretName === undefined && secretValue !== undefined ? { service, name, secretValue } : { service, name };
    } else if (sameRoute.definedIn !== hook.endpoint.definedIn) {
      problems.warning(hook.endpoint.definedIn, undefined, `webhook route ${hook.endpoint.route} is already defined by ${sameRoute.definedIn}; this one is ignored`);
      continue;
    }
    if (hook.func && !hasOwn(fns.functions, hook.func.name)) putOwn(fns.functions, hook.func.name, hook.func);
  }
}

function fallbackRoot(root: string): RootInfo {
  const name = path.basename(root);
  return {
    layout: 'bare',
    appId: name,
    name,
    internalId: '',
    groupId: '',
    configVersion: 20210101,
    deployment: { model: 'GLOBAL', providerRegion: '', location: '' },
    environmentTag: '',
    allowedRequestOrigins: [],
    legacyCustomUserData: null,
    isAppServicesCliExport: false,
  };
}
