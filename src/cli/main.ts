// Entry point of the `atrium` command.
import { UsageError } from './args';
import { runServe } from './serve';

const HELP = `Usage: atrium <command> [options]

Commands:
  serve <appDir>      serve an exported App Services app (atrium serve --help)
  data <sub>          import, export and index data in the embedded store (atrium data --help)
  users <sub>         manage application users (atrium users --help)
  apikeys <sub>       manage API keys (atrium apikeys --help)
  rules check <app>   load every rule and schema and report problems (atrium rules --help)

Options:
  --help              show this help
  --version           print the version
`;

type Command = (argv: string[]) => Promise<number>;

// Commands owned by other modules are loaded lazily so `atrium serve` starts without them.
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => runServe,
  data: async () => (await import('./data')).runDataCommand,
  users: async () => (await import('./users')).runUsersCommand,
  apikeys: async () => (await import('./apikeys')).runApiKeysCommand,
  rules: async () => (await import('./rules')).runRulesCommand,
};

export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP);
    return cmd ? 0 : 1;
  }
  if (cmd === '--version') {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    process.stdout.write(`${(require('../../../package.json') as { version: string }).version}\n`);
    return 0;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    process.stderr.write(`atrium: unknown command "${cmd}"\n\n${HELP}`);
    return 2;
  }
  return (await load())(rest);
}

export function main(argv: string[]): void {
  run(argv).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (err: unknown) => {
      // Exit explicitly: worker threads started before the failure would otherwise keep the process alive.
      if (err instanceof UsageError) {
        process.stderr.write(`atrium: ${err.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`atrium: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
