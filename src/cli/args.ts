// A small flag parser: `--name value`, `--name=value`, boolean flags, repeatable flags, positionals.

export interface FlagSpec {
  /** Flags that take no value. */
  booleans?: readonly string[];
  /** Flags that may be given more than once (values collected in order). */
  repeatable?: readonly string[];
  /** Every accepted flag (value-taking ones included); anything else is an error. */
  known: readonly string[];
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  const booleans = new Set(spec.booleans ?? []);
  const known = new Set([...spec.known, ...booleans, 'help']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      flags.set('help', ['true']);
      continue;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!known.has(name)) throw new UsageError(`unknown option --${name}`);
    let value: string;
    if (booleans.has(name) || name === 'help') {
      value = eq === -1 ? 'true' : arg.slice(eq + 1);
    } else if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value`);
      value = argv[++i];
    }
    const list = flags.get(name) ?? [];
    if (list.length > 0 && !(spec.repeatable ?? []).includes(name)) throw new UsageError(`option --${name} was given more than once`);
    list.push(value);
    flags.set(name, list);
  }
  return { positionals, flags };
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name)?.[0];
}

export function intFlag(args: ParsedArgs, name: string, fallback: number, min = 0): number {
  const v = flag(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`option --${name} must be an integer >= ${min} (got "${v}")`);
  return n;
}

/**
 * For commands with subcommands (`atrium users ...`): with no subcommand, or `--help`/`-h`/`help` in its place,
 * prints the help and returns the exit code (0 when asked, 2 when the subcommand is missing); otherwise null.
 */
export function subcommandHelp(sub: string | undefined, help: string): number | null {
  if (sub && sub !== '--help' && sub !== '-h' && sub !== 'help') return null;
  process.stdout.write(help);
  return sub ? 0 : 2;
}
