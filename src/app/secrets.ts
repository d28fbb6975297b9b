// Secrets are never exported with an app (§2.4); Atrium takes them out-of-band: a JSON file
// (`--secrets <file.json>`, name -> string) and environment variables `ATRIUM_SECRET_<NAME>`.
// NAME is the secret's name as written, or upper-cased with '-' as '_' (env var names cannot hold '-'),
// so `ATRIUM_SECRET_MY_KEY` answers for secrets named `my-key`, `my_key` and `MY_KEY`.
// Error messages name files and secrets, never values.
import * as fs from 'node:fs';
import { hasOwn, isObject, putOwn } from './fields';
import { parseJsonText } from './json-text';

export const SECRET_ENV_PREFIX = 'ATRIUM_SECRET_';

export function normalizeSecretName(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/** The env var that provides a secret, in the form a user can always type. */
export function secretEnvVar(name: string): string {
  return SECRET_ENV_PREFIX + normalizeSecretName(name);
}

export function collectSecrets(opts: { file?: string; env?: NodeJS.ProcessEnv }): Record<string, string> {
  const secrets: Record<string, string> = {};
  if (opts.file !== undefined) {
    for (const [name, value] of Object.entries(readSecretsFile(opts.file))) putOwn(secrets, name, value);
  }
  const env = opts.env ?? process.env;
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(SECRET_ENV_PREFIX) || value === undefined) continue;
    const name = key.slice(SECRET_ENV_PREFIX.length);
    if (name === '') continue;
    // Env wins over the file: drop file entries the env var also answers for, so lookups cannot pick them.
    const normalized = normalizeSecretName(name);
    for (const existing of Object.keys(secrets)) {
      if (normalizeSecretName(existing) === normalized) delete secrets[existing];
    }
    putOwn(secrets, name, value);
  }
  return secrets;
}

function readSecretsFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : String(err);
    throw new Error(`secrets file ${file}: cannot read it (${code})`);
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw new Error(`secrets file ${file}: ${parsed.message}`);
  if (!isObject(parsed.value)) {
    throw new Error(`secrets file ${file}: must be a JSON object mapping secret names to string values, like {"mySecret": "value"}`);
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed.value)) {
    if (typeof value !== 'string') {
      throw new Error(`secrets file ${file}: the value of "${name}" must be a string, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
    }
    putOwn(out, name, value);
  }
  return out;
}

/**
 * Finds a secret by the name the app uses: exact name first, then any given name with the same normalized form.
 * Remembers every name it answered, so app.secrets can hold each secret under the app's own spelling.
 */
export class SecretLookup {
  private readonly byNormalized = new Map<string, string>();
  readonly resolved: Record<string, string> = {};

  constructor(private readonly given: Record<string, string>) {
    for (const [name, value] of Object.entries(given)) {
      const key = normalizeSecretName(name);
      if (!this.byNormalized.has(key)) this.byNormalized.set(key, value);
    }
  }

  get(name: string): string | undefined {
    const value = hasOwn(this.given, name) ? this.given[name] : this.byNormalized.get(normalizeSecretName(name));
    if (value !== undefined) putOwn(this.resolved, name, value);
    return value;
  }
}
