// Values (§2.4): `values/<name>.json` = {name, value, from_secret}. With from_secret, `value` is the name of a
// secret, resolved from the secrets given to Atrium; a missing secret leaves the value undefined.
import type { AppFiles } from './app-files';
import { FieldReader, hasOwn, isObject, putOwn } from './fields';
import type { ProblemList } from './problems';
import { secretEnvVar, type SecretLookup } from './secrets';
import type { TemplateExpander } from './templates';

export function loadValues(files: AppFiles, problems: ProblemList, templates: TemplateExpander, secrets: SecretLookup): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const definedBy = new Map<string, string>();
  for (const name of files.list('values').files) {
    if (!name.endsWith('.json')) continue;
    const file = `values/${name}`;
    const raw = files.readJson(file);
    if (raw === undefined) continue;
    if (!isObject(raw)) {
      problems.error(file, undefined, 'must be a JSON object like {"name": ..., "value": ..., "from_secret": false}; ignored');
      continue;
    }
    const f = new FieldReader(templates.expand(raw, file) as Record<string, unknown>, problems, file, '');
    const valueName = f.string('name').trim() || name.slice(0, -'.json'.length);
    const earlier = definedBy.get(valueName);
    if (earlier !== undefined) {
      problems.error(file, 'name', `value "${valueName}" is already defined in ${earlier}; this one is ignored`);
      continue;
    }
    definedBy.set(valueName, file);
    if (!hasOwn(f.obj, 'value')) problems.warning(file, 'value', `value "${valueName}" has no "value"; it is undefined`);
    if (!f.bool('from_secret')) {
      putOwn(values, valueName, f.obj.value);
      continue;
    }
    const secretName = f.obj.value;
    if (typeof secretName !== 'string' || secretName === '') {
      problems.error(file, 'value', `from_secret is true, so "value" must be the name of a secret; value "${valueName}" is undefined`);
      putOwn(values, valueName, undefined);
      continue;
    }
    const secret = secrets.get(secretName);
    if (secret === undefined) {
      problems.error(file, 'value', `value "${valueName}" reads secret "${secretName}", which was not given (use --secrets <file.json> or ${secretEnvVar(secretName)}); the value is undefined`);
    }
    putOwn(values, valueName, secret);
  }
  return values;
}
