// Installs functions/package.json dependencies into a per-app folder (§4.3), on the main thread at start.
// <dataDir>/deps/<appId>/ gets a sanitised package.json (dependencies only: the app's own scripts never run),
// the app's package-lock.json when it has one, and `npm install --omit=dev --ignore-scripts`. Install scripts are
// skipped on purpose: they would run arbitrary code on the server, and native addons cannot be loaded by
// function workers anyway. A stamp file with the hash of what was installed makes later starts skip npm.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AppDefinition } from '../app/types';

const STAMP_FILE = '.atrium-deps-stamp';
/** Bump when the install procedure changes, so existing installs are redone. */
const PROCEDURE_VERSION = 'atrium-deps-1';
const INSTALL_TIMEOUT_MS = 10 * 60 * 1000;
const OUTPUT_KEEP_BYTES = 16 * 1024;

export class DependencyInstallError extends Error {
  override name = 'DependencyInstallError';
}

export interface EnsureDependenciesOptions {
  /** npm executable (default: `npm` from PATH). */
  npmCommand?: string;
  /** Extra npm arguments, e.g. `--registry=...` (tests). */
  npmArgs?: string[];
}

/** A folder name for the app id: ids are URL-safe already, but never trust a path component. */
function safeDirName(appId: string): string {
  const cleaned = appId.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return cleaned.length > 0 ? cleaned : 'app';
}

function readManifest(packageJsonPath: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(packageJsonPath, 'utf8');
  } catch (e) {
    throw new DependencyInstallError(`Cannot read ${packageJsonPath}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DependencyInstallError(`functions/package.json is not valid JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new DependencyInstallError('functions/package.json must contain a JSON object');
  }
  const deps = (parsed as { dependencies?: unknown }).dependencies;
  if (deps === undefined || deps === null) return {};
  if (typeof deps !== 'object' || Array.isArray(deps)) throw new DependencyInstallError('functions/package.json: "dependencies" must be an object');
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(deps)) {
    if (typeof spec !== 'string') throw new DependencyInstallError(`functions/package.json: the version of "${name}" must be a string`);
    out[name] = spec;
  }
  return out;
}

function runNpm(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; output: string; spawnError?: Error }> {
  return new Promise((resolve) => {
    let output = '';
    const keep = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > OUTPUT_KEEP_BYTES * 2) output = output.slice(-OUTPUT_KEEP_BYTES);
    };
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      output += `\n(npm did not finish within ${INSTALL_TIMEOUT_MS / 1000} s and was stopped)`;
      child.kill('SIGKILL');
    }, INSTALL_TIMEOUT_MS);
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, output, spawnError: err });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const NETWORK_CODES = /\b(ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET_TIMEOUT|ECONNABORTED)\b/;

/** Turns npm's output into a message that names the package(s) and the cause. */
export function describeNpmFailure(output: string, deps: Record<string, string>): string {
  const missing = new Set<string>();
  for (const m of output.matchAll(/'((?:@[^'@\s/]+\/)?[^'@\s/]+)@[^']*' (?:is not in this registry|could not be found)/g)) missing.add(m[1]!);
  for (const m of output.matchAll(/404 Not Found - GET \S+\/((?:@[^/\s]+(?:\/|%2[fF]))?[^/\s]+?)(?:\s|$)/g)) {
    missing.add(decodeURIComponent(m[1]!));
  }
  const noVersion = new Set<string>();
  for (const m of output.matchAll(/No matching version found for ((?:@[^\s@/]+\/)?[^\s@]+)@(\S+?)\.?(?:\s|$)/g)) noVersion.add(`${m[1]}@${m[2]}`);
  const npmLines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^npm (ERR!|error)/.test(l))
    .slice(0, 6)
    .join(' | ');
  const said = npmLines ? ` npm said: ${npmLines}` : '';
  if (missing.size > 0) {
    const list = [...missing].map((n) => (deps[n] ? `${n}@${deps[n]}` : n)).join(', ');
    return `the package(s) ${list} do not exist in the npm registry (check the names in functions/package.json).${said}`;
  }
  if (noVersion.size > 0) {
    return `the version(s) ${[...noVersion].join(', ')} do not exist in the npm registry (check the versions in functions/package.json).${said}`;
  }
  const all = Object.entries(deps).map(([n, v]) => `${n}@${v}`).join(', ');
  if (NETWORK_CODES.test(output)) return `the npm registry could not be reached while installing ${all}.${said}`;
  return `npm install failed for ${all}.${said}`;
}

/**
 * Installs the app's npm dependencies when it declares functions/package.json. Returns the directory holding
 * node_modules (pass it to createFunctionRequire), or null when the app has no package.json.
 * Throws DependencyInstallError naming the package(s) when npm fails.
 */
export async function ensureDependencies(
  app: AppDefinition,
  dataDir: string,
  log: (line: string) => void,
  options: EnsureDependenciesOptions = {},
): Promise<string | null> {
  if (!app.packageJsonPath) return null;
  const deps = readManifest(app.packageJsonPath);
  const dir = path.resolve(dataDir, 'deps', safeDirName(app.appId));
  const manifest = JSON.stringify({ name: 'atrium-app-dependencies', version: '0.0.0', private: true, dependencies: deps }, null, 2) + '\n';
  const lockSource = path.join(path.dirname(app.packageJsonPath), 'package-lock.json');
  const lock = fs.existsSync(lockSource) ? fs.readFileSync(lockSource, 'utf8') : null;
  const stampValue = createHash('sha256')
    .update(`${PROCEDURE_VERSION}\n${process.versions.modules}\n${manifest}\n${lock ?? ''}`)
    .digest('hex');
  const stampPath = path.join(dir, STAMP_FILE);
  const nodeModules = path.join(dir, 'node_modules');

  let current: string | null = null;
  try {
    current = fs.readFileSync(stampPath, 'utf8').trim();
  } catch {
    /* no previous install */
  }
  if (current === stampValue && fs.existsSync(nodeModules)) {
    log(`npm dependencies for app ${app.appId} are unchanged; using ${dir}`);
    return dir;
  }

  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(stampPath, { force: true });
  fs.writeFileSync(path.join(dir, 'package.json'), manifest);
  if (lock !== null) fs.writeFileSync(path.join(dir, 'package-lock.json'), lock);

  const names = Object.entries(deps).map(([n, v]) => `${n}@${v}`);
  if (names.length === 0) {
    fs.mkdirSync(nodeModules, { recursive: true });
  } else {
    log(`installing npm dependencies for app ${app.appId}: ${names.join(', ')}`);
    const started = Date.now();
    const args = [
      'install', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts', '--no-update-notifier',
      '--fetch-retries=1', '--fetch-retry-mintimeout=2000', '--fetch-retry-maxtimeout=10000',
      ...(options.npmArgs ?? []),
    ];
    const result = await runNpm(options.npmCommand ?? 'npm', args, dir);
    if (result.spawnError) {
      throw new DependencyInstallError(
        `Could not run npm to install functions/package.json dependencies (${names.join(', ')}): ${result.spawnError.message}`,
      );
    }
    if (result.code !== 0) {
      throw new DependencyInstallError(`Could not install functions/package.json dependencies for app ${app.appId}: ${describeNpmFailure(result.output, deps)}`);
    }
    log(`installed npm dependencies for app ${app.appId} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  fs.writeFileSync(stampPath, stampValue + '\n');
  return dir;
}
