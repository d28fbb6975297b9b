// `atrium rules check <appDir>`: loads every rules.json, default_rule.json and schema.json of the app and reports
// what is wrong with file and field. Exit code 1 when there is any error (warnings alone: 0).
import * as path from 'node:path';
import { loadApp } from '../app';
import { checkAppRules } from '../data/rules';
import type { RuleProblem } from '../data/rules';
import { UsageError, parseArgs, subcommandHelp } from './args';

export const RULES_HELP = `Usage: atrium rules check <appDir> [--json]

Checks the data access rules and schemas of an exported app (data_sources/<svc>/default_rule.json,
<db>/<coll>/rules.json and schema.json, or the legacy services/<svc>/rules/*.json) and prints every
problem with its file and field. Exits with 1 when there is an error.

Options:
  --json      machine-readable output: {"problems": [...], "counted": {...}}
`;

function format(p: RuleProblem): string {
  return `${p.level}: ${p.file}${p.field ? ` (${p.field})` : ''}: ${p.message}`;
}

export async function runRulesCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const helped = subcommandHelp(sub, RULES_HELP);
  if (helped !== null) return helped;
  if (sub !== 'check') throw new UsageError(`unknown rules command "${sub}" (try: atrium rules check <appDir>)`);
  const args = parseArgs(rest, { known: [], booleans: ['json'] });
  if (args.flags.has('help')) {
    process.stdout.write(RULES_HELP);
    return 0;
  }
  const [appDir, extra] = args.positionals;
  if (!appDir) throw new UsageError('rules check needs an <appDir>');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const app = loadApp(path.resolve(appDir));
  const report = checkAppRules(app);
  const errors = report.problems.filter((p) => p.level === 'error').length;
  if (args.flags.has('json')) {
    process.stdout.write(`${JSON.stringify({ problems: report.problems, counted: report.counted }, null, 2)}\n`);
  } else {
    for (const p of report.problems) process.stdout.write(`${format(p)}\n`);
    const c = report.counted;
    const warnings = report.problems.length - errors;
    process.stdout.write(
      `${c.dataSources} data source(s), ${c.ruleFiles} rule file(s), ${c.roles} role(s), ${c.filters} filter(s), ${c.schemas} schema(s): ` +
        `${errors} error(s), ${warnings} warning(s)\n`,
    );
  }
  return errors > 0 ? 1 : 0;
}
