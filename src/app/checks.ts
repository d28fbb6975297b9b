// Cross-checks that need the whole app loaded: every endpoint's function exists, and every secret the app
// names was given. Each failure names the file and field where the reference is written.
import { needsSecret } from './endpoint-fields';
import { hasOwn, isObject } from './fields';
import { fieldPath, type ProblemList } from './problems';
import { secretEnvVar, type SecretLookup } from './secrets';
import type { LoadedProviders } from './auth-providers';
import type { CustomUserDataDef, DataApiConfigDef, EndpointDef, FunctionDef } from './types';

const HOW_TO_GIVE = (name: string): string => `use --secrets <file.json> or ${secretEnvVar(name)}`;

/** `https_endpoints/config.json[3]` -> file and field prefix. */
function whereDefined(endpoint: EndpointDef): { file: string; prefix: string } {
  const m = /^(.*?)(\[\d+\])$/.exec(endpoint.definedIn);
  return m ? { file: m[1] as string, prefix: m[2] as string } : { file: endpoint.definedIn, prefix: '' };
}

export function checkEndpoints(endpoints: EndpointDef[], functions: Record<string, FunctionDef>, secrets: SecretLookup, problems: ProblemList): void {
  for (const e of endpoints) {
    const { file, prefix } = whereDefined(e);
    if (!hasOwn(functions, e.functionName)) {
      // Legacy webhooks without source.js were already reported where they are defined.
      if (!(e.legacyWebhook && prefix === '')) {
        problems.error(file, fieldPath(prefix, 'function_name'), `function "${e.functionName}" not found; ${e.httpMethod} ${e.route} answers FunctionNotFound`);
      }
    }
    if (!e.disabled && needsSecret(e.validationMethod) && e.secretName !== undefined && secrets.get(e.secretName) === undefined) {
      problems.error(file, fieldPath(prefix, 'secret_name'), `secret "${e.secretName}" was not given (${HOW_TO_GIVE(e.secretName)}); requests to ${e.route} are refused`);
    }
  }
}

export function checkDataApi(dataApi: DataApiConfigDef | null, secrets: SecretLookup, problems: ProblemList): void {
  if (!dataApi || dataApi.disabled || !needsSecret(dataApi.validationMethod) || dataApi.secretName === undefined) return;
  if (secrets.get(dataApi.secretName) === undefined) {
    problems.error(dataApi.definedIn, 'secret_name', `secret "${dataApi.secretName}" was not given (${HOW_TO_GIVE(dataApi.secretName)}); Data API requests are refused`);
  }
}

/** `secret_config` values are secret names (e.g. custom-token `signingKeys`, OAuth `clientSecret`). */
export function checkProviderSecrets(loaded: LoadedProviders, secrets: SecretLookup, problems: ProblemList): void {
  for (const p of Object.values(loaded.providers)) {
    if (p.disabled) continue;
    const where = loaded.definedIn.get(p.name) ?? { file: 'auth/providers.json', at: p.name };
    for (const [key, value] of Object.entries(p.secretConfig)) {
      const names: Array<[string, unknown]> = Array.isArray(value) ? value.map((v, i) => [fieldPath(key, i), v]) : [[key, value]];
      for (const [at, name] of names) {
        if (typeof name !== 'string' || name === '') continue;
        if (secrets.get(name) === undefined) {
          problems.error(where.file, fieldPath(where.at, 'secret_config', at), `secret "${name}" was not given (${HOW_TO_GIVE(name)}); the ${p.type} provider cannot work without it`);
        }
      }
    }
  }
}

/** Functions named by auth settings (custom-function provider, custom user data creation hook). */
export function checkAuthFunctions(
  loaded: LoadedProviders,
  customUserData: { def: CustomUserDataDef; file: string; at: string } | null,
  functions: Record<string, FunctionDef>,
  problems: ProblemList,
): void {
  for (const p of Object.values(loaded.providers)) {
    if (p.disabled || !isObject(p.config)) continue;
    const where = loaded.definedIn.get(p.name) ?? { file: 'auth/providers.json', at: p.name };
    for (const key of ['authFunctionName', 'confirmationFunctionName', 'resetFunctionName']) {
      const name = p.config[key];
      if (typeof name === 'string' && name !== '' && !hasOwn(functions, name)) {
        problems.error(where.file, fieldPath(where.at, 'config', key), `function "${name}" not found`);
      }
    }
  }
  const hook = customUserData?.def.onUserCreationFunctionName ?? '';
  if (customUserData && hook !== '' && !hasOwn(functions, hook)) {
    problems.error(customUserData.file, fieldPath(customUserData.at, 'on_user_creation_function_name'), `function "${hook}" not found`);
  }
}
