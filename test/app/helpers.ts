// Shared helpers for the app loader tests: fixture paths, throwaway copies, problem lookups.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import type { AppDefinition, AppProblem } from '../../src/app';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const APPS = path.join(REPO_ROOT, 'test', 'fixtures', 'apps');
export const DEMO_APP = path.join(REPO_ROOT, 'examples', 'demo-app');

export function fixture(name: string): string {
  return path.join(APPS, name);
}

const temps: string[] = [];
after(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test file. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atrium-app-test-'));
  temps.push(dir);
  return dir;
}

/** A writable copy of a fixture app (tests that change files never touch the originals). */
export function copyFixture(name: string): string {
  const dir = path.join(tempDir(), name);
  fs.cpSync(fixture(name), dir, { recursive: true });
  return dir;
}

export function write(dir: string, rel: string, content: unknown): void {
  const file = path.join(dir, ...rel.split('/'));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
}

export interface ProblemQuery {
  level?: AppProblem['level'];
  file?: string;
  field?: string;
  /** Every string must occur in the message. */
  says?: string[];
}

export function problemsMatching(app: AppDefinition, q: ProblemQuery): AppProblem[] {
  return app.problems.filter(
    (p) =>
      (q.level === undefined || p.level === q.level) &&
      (q.file === undefined || p.file === q.file) &&
      (q.field === undefined || p.field === q.field) &&
      (q.says ?? []).every((s) => p.message.includes(s)),
  );
}

/** Exactly one problem matches; returns it (the failure message lists every problem to ease debugging). */
export function oneProblem(app: AppDefinition, q: ProblemQuery): AppProblem {
  const found = problemsMatching(app, q);
  if (found.length !== 1) {
    throw new Error(`expected exactly one problem matching ${JSON.stringify(q)}, found ${found.length}; all problems:\n${JSON.stringify(app.problems, null, 2)}`);
  }
  return found[0] as AppProblem;
}

export function noErrors(app: AppDefinition): void {
  const errors = app.problems.filter((p) => p.level === 'error');
  if (errors.length > 0) throw new Error(`expected no error problems, got:\n${JSON.stringify(errors, null, 2)}`);
}

export function endpoint(app: AppDefinition, method: string, route: string) {
  const found = app.endpoints.find((e) => e.httpMethod === method && e.route === route);
  if (!found) throw new Error(`no endpoint ${method} ${route}; have ${app.endpoints.map((e) => `${e.httpMethod} ${e.route}`).join(', ')}`);
  return found;
}
