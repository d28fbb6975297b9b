// The generated Data API's settings (§3.3, §15): `<endpoint dir>/data_api_config.json`, or at the root in
// v1 layouts. Unlike custom endpoints, its auth settings live in this file.
import type { AppFiles } from './app-files';
import { needsSecret, parseReturnType, parseValidationMethod } from './endpoint-fields';
import { FieldReader, isObject } from './fields';
import type { ProblemList } from './problems';
import type { TemplateExpander } from './templates';
import type { DataApiConfigDef } from './types';

export function loadDataApiConfig(files: AppFiles, problems: ProblemList, templates: TemplateExpander, endpointDir: string | null): DataApiConfigDef | null {
  const candidates = [...(endpointDir ? [`${endpointDir}/data_api_config.json`] : []), 'data_api_config.json'];
  const file = candidates.find((c) => files.isFile(c));
  if (!file) return null;
  const raw = files.readJson(file);
  if (raw === undefined) return null;
  if (!isObject(raw)) {
    problems.error(file, undefined, 'must be a JSON object; the Data API is not configured');
    return null;
  }
  const f = new FieldReader(templates.expand(raw, file) as Record<string, unknown>, problems, file, '');

  const validationText = f.string('validation_method');
  let validationMethod = parseValidationMethod(validationText);
  let disabled = f.bool('disabled');
  if (!validationMethod) {
    problems.error(file, 'validation_method', `${JSON.stringify(validationText)} is not one of NO_VALIDATION, SECRET_AS_QUERY_PARAM, VERIFY_PAYLOAD; the Data API is disabled`);
    validationMethod = 'NO_VALIDATION';
    disabled = true; // an unknown validation setting must not open the Data API
  }
  const secretName = f.string('secret_name').trim();
  if (!disabled && needsSecret(validationMethod) && secretName === '') {
    problems.error(file, 'secret_name', `${validationMethod} needs a secret_name; Data API requests cannot be validated and are refused`);
  }
  const returnTypeText = f.string('return_type');
  let returnType = parseReturnType(returnTypeText);
  if (!returnType) {
    problems.error(file, 'return_type', `${JSON.stringify(returnTypeText)} is not JSON or EJSON; using JSON`);
    returnType = 'JSON';
  }
  const versions = f.stringArray('versions');
  const def: DataApiConfigDef = {
    disabled,
    versions: f.has('versions') ? versions : ['v1'],
    returnType,
    createUserOnAuth: f.bool('create_user_on_auth'),
    runAsSystem: f.bool('run_as_system'),
    runAsUserId: f.string('run_as_user_id'),
    runAsUserIdScriptSource: f.string('run_as_user_id_script_source'),
    canEvaluate: f.expression('can_evaluate'),
    validationMethod,
    fetchCustomUserData: f.bool('fetch_custom_user_data'),
    logFunctionArguments: f.bool('log_function_arguments'),
    definedIn: file,
  };
  if (secretName !== '') def.secretName = secretName;
  return def;
}
