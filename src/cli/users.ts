// `atrium users ...`: manage the app's users in the platform store under --data-dir (no server needed).
import * as path from 'node:path';
import { loadApp } from '../app';
import type { AppDefinition } from '../app';
import { AuthAdmin, AuthError } from '../auth';
import type { UserSummary } from '../auth';
import { UsageError, flag, parseArgs, subcommandHelp } from './args';
import type { ParsedArgs } from './args';

export const USERS_HELP = `Usage: atrium users <command> <appDir> [options]

Commands:
  create <appDir> --email <e> (--password <p> | --password-stdin)
                              create a confirmed email/password user
  list <appDir> [--json]      list users
  confirm <appDir> <email>    confirm a pending email/password registration
  disable <appDir> <id|email> disable a user (ends its sessions at once)
  enable <appDir> <id|email>  enable a user again
  delete <appDir> <id|email>  delete a user with its identities, keys and sessions

Options:
  --data-dir <dir>            Atrium's state directory (default ./.atrium, as for serve)
  --password-stdin            read the password from standard input (keeps it out of the process list)
  --json                      machine-readable output (list)
`;

const FLAGS = { known: ['data-dir', 'email', 'password'], booleans: ['password-stdin', 'json'] };

/** Shared by users and apikeys: the app and the admin handle over its data dir. */
export async function openAdmin(args: ParsedArgs, command: string): Promise<{ app: AppDefinition; admin: AuthAdmin; rest: string[] }> {
  const [appDir, ...rest] = args.positionals;
  if (!appDir) throw new UsageError(`${command} needs an <appDir>`);
  const app = loadApp(path.resolve(appDir));
  const admin = await AuthAdmin.open(app, path.resolve(flag(args, 'data-dir') ?? '.atrium'));
  return { app, admin, rest };
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function providerEnabled(app: AppDefinition, type: string): boolean {
  return Object.values(app.authProviders).some((p) => p.type === type && !p.disabled);
}

function describeUser(s: UserSummary): string {
  const providers = [...new Set(s.identities.map((i) => i.providerType))].join(',') || '-';
  const label = s.email ?? (typeof s.user.data.name === 'string' ? s.user.data.name : '');
  return [s.user.id, s.user.type, s.user.disabled ? 'disabled' : 'enabled', providers, label || '-', new Date(s.user.createdAt).toISOString()].join('  ');
}

export async function runUsersCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const helped = subcommandHelp(sub, USERS_HELP);
  if (helped !== null) return helped;
  const args = parseArgs(rest, FLAGS);
  if (args.flags.has('help')) {
    process.stdout.write(USERS_HELP);
    return 0;
  }
  if (!['create', 'list', 'confirm', 'disable', 'enable', 'delete'].includes(sub)) throw new UsageError(`unknown users command "${sub}"; see \`atrium users --help\``);
  const { app, admin, rest: targets } = await openAdmin(args, `users ${sub}`);
  try {
    return await usersCommand(sub, args, app, admin, targets);
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

async function usersCommand(sub: string, args: ParsedArgs, app: AppDefinition, admin: AuthAdmin, targets: string[]): Promise<number> {
  switch (sub) {
    case 'create': {
      const email = flag(args, 'email');
      if (!email) throw new UsageError('users create needs --email');
      if (targets.length > 0) throw new UsageError(`unexpected argument "${targets[0]}"`);
      const fromStdin = args.flags.has('password-stdin');
      if (fromStdin && flag(args, 'password') !== undefined) throw new UsageError('give either --password or --password-stdin, not both');
      const password = fromStdin ? await readStdin() : flag(args, 'password');
      if (password === undefined) throw new UsageError('users create needs --password or --password-stdin');
      const user = await admin.createUser(email, password);
      process.stdout.write(`Created user ${user.id} (${email.trim()})\n`);
      if (!providerEnabled(app, 'local-userpass')) process.stderr.write('atrium: note: the app has no enabled local-userpass provider, so this user cannot log in yet\n');
      return 0;
    }
    case 'list': {
      const users = await admin.listUsers();
      const pending = await admin.listPending();
      if (args.flags.has('json')) {
        const out = users.map((s) => ({
          id: s.user.id,
          type: s.user.type,
          disabled: s.user.disabled,
          email: s.email,
          data: s.user.data,
          identities: s.identities.map((i) => ({ id: i.externalId, provider_type: i.providerType })),
          created: new Date(s.user.createdAt).toISOString(),
          last_login: s.user.lastLoginAt === null ? null : new Date(s.user.lastLoginAt).toISOString(),
        }));
        const waiting = pending.map((p) => ({ id: null, type: 'normal', disabled: false, email: p.email, pending: true, created: new Date(p.createdAt).toISOString() }));
        process.stdout.write(JSON.stringify([...out, ...waiting], null, 2) + '\n');
      } else if (users.length === 0 && pending.length === 0) {
        process.stdout.write('No users.\n');
      } else {
        const waiting = pending.map((p) => ['-', 'normal', 'pending', 'local-userpass', p.email, new Date(p.createdAt).toISOString()].join('  '));
        process.stdout.write(['ID  TYPE  STATE  PROVIDERS  EMAIL/NAME  CREATED', ...users.map(describeUser), ...waiting].join('\n') + '\n');
      }
      return 0;
    }
    case 'confirm': {
      if (targets.length !== 1) throw new UsageError('users confirm needs exactly one <email>');
      const user = await admin.confirmUser(targets[0]);
      process.stdout.write(`Confirmed ${targets[0]} (user ${user.id})\n`);
      return 0;
    }
    default: {
      if (targets.length !== 1) throw new UsageError(`users ${sub} needs exactly one <id|email>`);
      const user = await admin.findUser(targets[0]);
      if (!user) {
        process.stderr.write(`atrium: no user "${targets[0]}"\n`);
        return 1;
      }
      if (sub === 'delete') {
        await admin.deleteUser(user.id);
        process.stdout.write(`Deleted user ${user.id}\n`);
      } else {
        await admin.setUserDisabled(user.id, sub === 'disable');
        process.stdout.write(`${sub === 'disable' ? 'Disabled' : 'Enabled'} user ${user.id}\n`);
      }
      return 0;
    }
  }
}
