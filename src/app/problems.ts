// Collects what is wrong with an app directory without stopping the load: every problem names its file
// (relative to the app dir) and, when known, the field, so a user can find and fix it.
import type { AppProblem } from './types';

export class ProblemList {
  readonly items: AppProblem[] = [];

  error(file: string, field: string | undefined, message: string): void {
    this.add('error', file, field, message);
  }

  warning(file: string, field: string | undefined, message: string): void {
    this.add('warning', file, field, message);
  }

  private add(level: AppProblem['level'], file: string, field: string | undefined, message: string): void {
    const problem: AppProblem = { level, file, message };
    if (field) problem.field = field;
    this.items.push(problem);
  }
}

/** Builds a field path like `[3].function_name` or `config.clusterName` from its parts. */
export function fieldPath(...parts: Array<string | number>): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (part !== '') out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** One line: `error: https_endpoints/config.json[2].function_name: function "x" not found`. */
export function formatProblem(p: AppProblem): string {
  let where = p.file;
  if (p.field) where += p.field.startsWith('[') ? p.field : `.${p.field}`;
  return `${p.level}: ${where}: ${p.message}`;
}
