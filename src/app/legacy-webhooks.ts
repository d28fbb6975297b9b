// Legacy incoming webhooks (§14): `http_endpoints/<svc>/incoming_webhooks/<name>/` (20210101) and
// `services/<svc>/incoming_webhooks/<name>/` (Stitch / realm-cli v1), each `{config.json, source.js}`.
// Each becomes an endpoint at `/<svc>/<name>` bound to function `<svc>_<name>`, the names App Services'
// conversion gives them, plus `legacyWebhook` so the HTTP layer can also serve the old webhook URL.
import type { AppFiles } from './app-files';
import { needsSecret, parseHttpMethod, parseValidationMethod } from './endpoint-fields';
import { FieldReader, isObject } from './fields';
import type { ProblemList } from './problems';
import type { TemplateExpander } from './templates';
import type { EndpointDef, FunctionDef } from './types';

export interface LegacyWebhook {
  endpoint: EndpointDef;
  /** From source.js; undefined when it is missing or unreadable. */
  func?: FunctionDef;
  /** The service's `type` from its config.json ('http' when absent). */
  serviceType: string;
}

/** Reads every `<base>/<svc>/incoming_webhooks/<name>/` under the given base folders. */
export function loadLegacyWebhooks(files: AppFiles, problems: ProblemList, templates: TemplateExpander, bases: string[]): LegacyWebhook[] {
  const out: LegacyWebhook[] = [];
  for (const base of bases) {
    for (const svcDir of files.list(base).dirs) {
      const hooksDir = `${base}/${svcDir}/incoming_webhooks`;
      if (!files.isDir(hooksDir)) continue;
      const service = readServiceConfig(files, `${base}/${svcDir}/config.json`, base !== 'services');
      const serviceName = service.name || svcDir;
      for (const hookDir of files.list(hooksDir).dirs) {
        const hook = loadWebhook(files, problems, templates, `${hooksDir}/${hookDir}`, serviceName, hookDir);
        if (hook) out.push({ ...hook, serviceType: service.type });
      }
    }
  }
  return out;
}

function readServiceConfig(files: AppFiles, file: string, report: boolean): { name: string; type: string } {
  // services/<svc>/config.json problems are reported once, by data-sources.ts.
  const raw = report ? files.readJsonIfExists(file) : files.peekJson(file);
  if (!isObject(raw)) return { name: '', type: 'http' };
  return {
    name: typeof raw.name === 'string' ? raw.name : '',
    type: typeof raw.type === 'string' && raw.type !== '' ? raw.type : 'http',
  };
}

function loadWebhook(
  files: AppFiles,
  problems: ProblemList,
  templates: TemplateExpander,
  dir: string,
  serviceName: string,
  dirName: string,
): Omit<LegacyWebhook, 'serviceType'> | undefined {
  const configFile = `${dir}/config.json`;
  const raw = files.isFile(configFile) ? files.readJson(configFile) : {};
  if (raw === undefined) return undefined; // bad JSON, already reported
  if (!isObject(raw)) {
    problems.error(configFile, undefined, 'must be a JSON object; webhook skipped');
    return undefined;
  }
  const f = new FieldReader(templates.expand(raw, configFile) as Record<string, unknown>, problems, configFile, '');
  const name = f.string('name').trim() || dirName;
  const options = new FieldReader(f.object('options'), problems, configFile, 'options');

  const methodText = options.string('httpMethod');
  let httpMethod = methodText.trim() === '' ? '*' : parseHttpMethod(methodText);
  if (!httpMethod && methodText.trim().toUpperCase() === 'HEAD') {
    // Endpoints have no HEAD method; serving it as GET keeps the webhook reachable (HEAD requests match GET routes).
    problems.warning(configFile, 'options.httpMethod', 'HEAD is served as a GET endpoint');
    httpMethod = 'GET';
  }
  if (!httpMethod) {
    problems.error(configFile, 'options.httpMethod', `${JSON.stringify(methodText)} is not one of GET, POST, PUT, PATCH, DELETE, HEAD, ANY; webhook skipped`);
    return undefined;
  }
  const validationText = options.string('validationMethod');
  const validationMethod = parseValidationMethod(validationText);
  if (!validationMethod) {
    problems.error(configFile, 'options.validationMethod', `${JSON.stringify(validationText)} is not one of NO_VALIDATION, SECRET_AS_QUERY_PARAM, VERIFY_PAYLOAD; webhook skipped`);
    return undefined;
  }
  const secretValue = options.string('secret');
  if (needsSecret(validationMethod) && secretValue === '') {
    problems.error(configFile, 'options.secret', `${validationMethod} needs options.secret; requests to this webhook cannot be validated and are refused`);
  } else if (needsSecret(validationMethod) && /censored/i.test(secretValue)) {
    problems.warning(configFile, 'options.secret', 'looks like a placeholder left by the export, not the real secret; put the real value in this file');
  }

  const route = `/${serviceName}/${name}`;
  const functionName = `${serviceName}_${name}`;
  const endpoint: EndpointDef = {
    route,
    httpMethod,
    functionName,
    validationMethod,
    respondResult: f.bool('respond_result'),
    fetchCustomUserData: f.bool('fetch_custom_user_data'),
    createUserOnAuth: f.bool('create_user_on_auth'),
    disabled: false,
    // Webhook configs have no return_type; JSON is Atrium's default for every endpoint without one.
    returnType: 'JSON',
    definedIn: configFile,
    legacyWebhook: secretValue === '' ? { service: serviceName, name } : { service: serviceName, name, secretValue },
  };

  const sourceFile = `${dir}/source.js`;
  if (!files.isFile(sourceFile)) {
    problems.error(configFile, undefined, `webhook ${route} has no source.js`);
    return { endpoint };
  }
  const source = files.readText(sourceFile);
  if (source === undefined) return { endpoint };

  // §14.1: with no run-as setting a webhook runs as system; run_as_authed_user means the caller's credentials.
  const runAsUserId = f.string('run_as_user_id');
  const runAsUserIdScriptSource = f.string('run_as_user_id_script_source');
  const runAsAuthedUser = f.bool('run_as_authed_user');
  const func: FunctionDef = {
    name: functionName,
    file: sourceFile,
    source,
    // Webhook functions were not in the app's function list, so clients could never call them directly.
    private: true,
    runAsSystem: !runAsAuthedUser && runAsUserId === '' && runAsUserIdScriptSource === '',
    runAsUserId,
    runAsUserIdScriptSource,
    canEvaluate: f.expression('can_evaluate'),
    disableArgLogs: f.bool('disable_arg_logs'),
  };
  return { endpoint, func };
}
