// Starts the real `atrium serve` as a child process on 127.0.0.1 with a free port, for integration tests.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const BIN = path.join(REPO_ROOT, 'bin', 'atrium.js');
export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'apps');

export interface RunningServer {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** e.g. http://127.0.0.1:40123/app/<appId>/endpoint */
  endpointBase: string;
  appId: string;
  dataDir: string;
  proc: ChildProcess;
  /** Everything the server printed on stderr so far (start-up report, warnings). */
  stderr(): string;
  /** Structured request log lines printed on stdout so far. */
  logLines(): Array<Record<string, unknown>>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Reuse a data dir (e.g. to test persistence across restarts); a temp dir otherwise. */
  dataDir?: string;
  /** How long to wait for the start-up line. */
  timeoutMs?: number;
}

export function tempDir(prefix = 'atrium-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startAtrium(appDir: string, opts: StartOptions = {}): Promise<RunningServer> {
  const dataDir = opts.dataDir ?? tempDir('atrium-data-');
  const args = [BIN, 'serve', appDir, '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, ...(opts.args ?? [])];
  const proc = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

  const timeoutMs = opts.timeoutMs ?? 20_000;
  const started = Date.now();
  let match: RegExpExecArray | null = null;
  while (!match) {
    match = /at (http:\/\/127\.0\.0\.1:(\d+))\/app\/([^/\s]+)\/endpoint/.exec(err);
    if (match) break;
    if (proc.exitCode !== null) throw new Error(`atrium exited with ${proc.exitCode} before serving:\n${err}`);
    if (Date.now() - started > timeoutMs) {
      proc.kill('SIGKILL');
      throw new Error(`atrium did not start within ${timeoutMs} ms:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const url = match[1];
  const appId = match[3];
  return {
    url,
    appId,
    endpointBase: `${url}/app/${appId}/endpoint`,
    dataDir,
    proc,
    stderr: () => err,
    logLines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs the CLI to completion and returns its exit code and output. */
export async function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (opts.input !== undefined) proc.stdin.end(opts.input);
  else proc.stdin.end();
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}
