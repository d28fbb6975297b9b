// HTTPS endpoints (§3): `http_endpoints/config.json` or `https_endpoints/config.json`, a JSON array.
// Invalid entries are reported and skipped; an endpoint whose function is missing is kept (the HTTP layer
// answers FunctionNotFound for it) and reported later by the cross-checks in load.ts.
import type { AppFiles } from './app-files';
import { needsSecret, parseHttpMethod, parseReturnType, parseValidationMethod } from './endpoint-fields';
import { FieldReader, isObject } from './fields';
import { fieldPath, type ProblemList } from './problems';
import type { TemplateExpander } from './templates';
import type { EndpointDef } from './types';

export const ENDPOINT_DIRS = ['https_endpoints', 'http_endpoints'] as const;
export type EndpointDir = (typeof ENDPOINT_DIRS)[number];

/** Keys of TiDB Cloud Data Service SQL endpoints, which reuse the file name http_endpoints/config.json. */
const LOOKALIKE_KEYS = ['sql_file', 'endpoint', 'data_source', 'params', 'settings'];

/**
 * Which endpoint directory to read. With both present (a stale copy after a CLI migration), the one matching
 * the generation markers wins: root_config.json / .mdb/meta.json -> https_endpoints, otherwise http_endpoints.
 */
export function chooseEndpointDir(files: AppFiles, problems: ProblemList, isAppServicesCliExport: boolean): EndpointDir | null {
  const present = ENDPOINT_DIRS.filter((d) => files.isDir(d));
  if (present.length === 0) return null;
  if (present.length === 1) return present[0] as EndpointDir;
  const chosen: EndpointDir = isAppServicesCliExport ? 'https_endpoints' : 'http_endpoints';
  const other: EndpointDir = chosen === 'https_endpoints' ? 'http_endpoints' : 'https_endpoints';
  const why = isAppServicesCliExport ? 'root_config.json/.mdb/meta.json mark an App Services CLI export' : 'there is no root_config.json or .mdb/meta.json';
  problems.warning(`${other}/`, undefined, `both https_endpoints/ and http_endpoints/ exist; using ${chosen}/ because ${why}, and ignoring ${other}/`);
  return chosen;
}

export function loadEndpoints(files: AppFiles, problems: ProblemList, templates: TemplateExpander, dir: EndpointDir): EndpointDef[] {
  const file = `${dir}/config.json`;
  if (!files.isFile(file)) return [];
  const parsed = files.readJson(file);
  if (parsed === undefined) return [];
  if (!Array.isArray(parsed)) {
    problems.error(file, undefined, 'must be a JSON array of endpoint configs; no endpoints loaded from it');
    return [];
  }
  const endpoints: EndpointDef[] = [];
  const seen = new Map<string, number>();
  parsed.forEach((raw, i) => {
    const endpoint = parseEndpoint(raw, i, file, problems, templates);
    if (!endpoint) return;
    const key = `${endpoint.httpMethod} ${endpoint.route}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.error(file, fieldPath(i), `duplicate endpoint ${endpoint.httpMethod} ${endpoint.route} (also entry [${first}]); the first one is used`);
      return;
    }
    seen.set(key, i);
    endpoints.push(endpoint);
  });
  return endpoints;
}

function parseEndpoint(raw: unknown, i: number, file: string, problems: ProblemList, templates: TemplateExpander): EndpointDef | undefined {
  if (!isObject(raw)) {
    problems.error(file, fieldPath(i), 'must be an object; entry skipped');
    return undefined;
  }
  const entry = templates.expand(raw, file, fieldPath(i)) as Record<string, unknown>;
  const f = new FieldReader(entry, problems, file, fieldPath(i));

  if (!f.has('route') && !f.has('function_name')) {
    const lookalike = LOOKALIKE_KEYS.filter((k) => f.has(k));
    const why = lookalike.length > 0 || entry.type === 'sql_endpoint'
      ? ` (it looks like a TiDB Cloud Data Service SQL endpoint: ${[...lookalike, ...(entry.type === 'sql_endpoint' ? ['type: "sql_endpoint"'] : [])].join(', ')})`
      : '';
    problems.error(file, fieldPath(i), `not an App Services endpoint: it has neither "route" nor "function_name"${why}; entry skipped`);
    return undefined;
  }

  const route = f.string('route');
  if (!route.startsWith('/')) {
    problems.error(file, f.path('route'), route === '' ? 'route is missing; entry skipped' : `route ${JSON.stringify(route)} must start with "/"; entry skipped`);
    return undefined;
  }
  const methodText = f.string('http_method');
  const httpMethod = parseHttpMethod(methodText);
  if (!httpMethod) {
    problems.error(file, f.path('http_method'), methodText === '' ? 'http_method is missing; entry skipped' : `http_method ${JSON.stringify(methodText)} is not one of GET, POST, PUT, PATCH, DELETE, * (ANY); entry skipped`);
    return undefined;
  }
  const functionName = f.string('function_name');
  if (functionName.trim() === '') {
    problems.error(file, f.path('function_name'), 'function_name is missing; entry skipped');
    return undefined;
  }

  // Some docs spell it verification_method; real exports use validation_method.
  const validationKey = f.has('validation_method') || !f.has('verification_method') ? 'validation_method' : 'verification_method';
  const validationText = f.string(validationKey);
  const validationMethod = parseValidationMethod(validationText);
  if (!validationMethod) {
    // Never fall back to NO_VALIDATION for a setting we do not understand: that would open the endpoint.
    problems.error(file, f.path(validationKey), `${validationKey} ${JSON.stringify(validationText)} is not one of NO_VALIDATION, SECRET_AS_QUERY_PARAM, VERIFY_PAYLOAD; entry skipped`);
    return undefined;
  }
  const secretName = f.string('secret_name').trim();
  if (needsSecret(validationMethod) && secretName === '') {
    problems.error(file, f.path('secret_name'), `${validationMethod} needs a secret_name; requests to ${route} cannot be validated and are refused`);
  }

  const returnTypeText = f.string('return_type');
  let returnType = parseReturnType(returnTypeText);
  if (!returnType) {
    problems.error(file, f.path('return_type'), `return_type ${JSON.stringify(returnTypeText)} is not JSON or EJSON; using JSON`);
    returnType = 'JSON';
  }

  const endpoint: EndpointDef = {
    route,
    httpMethod,
    functionName,
    validationMethod,
    respondResult: f.bool('respond_result'),
    fetchCustomUserData: f.bool('fetch_custom_user_data'),
    createUserOnAuth: f.bool('create_user_on_auth'),
    disabled: f.bool('disabled'),
    returnType,
    definedIn: `${file}${fieldPath(i)}`,
  };
  if (secretName !== '') endpoint.secretName = secretName;
  return endpoint;
}
