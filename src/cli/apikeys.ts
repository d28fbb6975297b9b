// `atrium apikeys ...`: manage server API keys in the platform store under --data-dir (no server needed).
import { AuthError } from '../auth';
import { UsageError, flag, parseArgs, subcommandHelp } from './args';
import { openAdmin } from './users';

export const APIKEYS_HELP = `Usage: atrium apikeys <command> <appDir> [options]

Commands:
  create <appDir> --name <n>      create a server API key; the key is printed once, as the last line
  list <appDir> [--json]          list server API keys (never the keys themselves)
  disable <appDir> <id|name>      disable a key (its sessions end at once)
  enable <appDir> <id|name>       enable a key again
  delete <appDir> <id|name>       delete a key and its server user

Options:
  --data-dir <dir>                Atrium's state directory (default ./.atrium, as for serve)
  --json                          machine-readable output (list)
`;

const FLAGS = { known: ['data-dir', 'name'], booleans: ['json'] };

export async function runApiKeysCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const helped = subcommandHelp(sub, APIKEYS_HELP);
  if (helped !== null) return helped;
  const args = parseArgs(rest, FLAGS);
  if (args.flags.has('help')) {
    process.stdout.write(APIKEYS_HELP);
    return 0;
  }
  if (!['create', 'list', 'disable', 'enable', 'delete'].includes(sub)) throw new UsageError(`unknown apikeys command "${sub}"; see \`atrium apikeys --help\``);
  const { app, admin, rest: targets } = await openAdmin(args, `apikeys ${sub}`);
  try {
    switch (sub) {
      case 'create': {
        const name = flag(args, 'name');
        if (!name) throw new UsageError('apikeys create needs --name');
        if (targets.length > 0) throw new UsageError(`unexpected argument "${targets[0]}"`);
        const { key, secret } = await admin.createApiKey(name);
        if (!Object.values(app.authProviders).some((p) => p.type === 'api-key' && !p.disabled)) {
          process.stderr.write('atrium: note: the app has no enabled api-key provider, so this key cannot log in yet\n');
        }
        process.stdout.write(`Created API key "${key.name}" (id ${key.id}). It is shown only this once:\n${secret}\n`);
        return 0;
      }
      case 'list': {
        const keys = await admin.listApiKeys();
        if (args.flags.has('json')) {
          const out = keys.map((k) => ({ id: k.id, name: k.name, disabled: k.disabled, user_id: k.userId, created: new Date(k.createdAt).toISOString() }));
          process.stdout.write(JSON.stringify(out, null, 2) + '\n');
        } else if (keys.length === 0) {
          process.stdout.write('No API keys.\n');
        } else {
          const lines = keys.map((k) => [k.id, k.name, k.disabled ? 'disabled' : 'enabled', new Date(k.createdAt).toISOString()].join('  '));
          process.stdout.write(['ID  NAME  STATE  CREATED', ...lines].join('\n') + '\n');
        }
        return 0;
      }
      default: {
        if (targets.length !== 1) throw new UsageError(`apikeys ${sub} needs exactly one <id|name>`);
        const key = await admin.findApiKey(targets[0]);
        if (!key) {
          process.stderr.write(`atrium: no API key "${targets[0]}"\n`);
          return 1;
        }
        if (sub === 'delete') {
          await admin.deleteApiKey(key.id);
          process.stdout.write(`Deleted API key "${key.name}" (${key.id})\n`);
        } else {
          await admin.setApiKeyDisabled(key.id, sub === 'disable');
          process.stdout.write(`${sub === 'disable' ? 'Disabled' : 'Enabled'} API key "${key.name}" (${key.id})\n`);
        }
        return 0;
      }
    }
  } catch (err) {
    if (err instanceof AuthError) {
      process.stderr.write(`atrium: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await admin.close();
  }
}
