// run_as_user_id through the real server: a copy of the auth fixture app whose function runs as a user created
// beforehand with the CLI; a user disabled by the CLI stops it within about a second.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, runCli, startAtrium, tempDir } from '../helpers/server';
import type { RunningServer } from '../helpers/server';

const FIXTURE = path.join(REPO_ROOT, 'test', 'auth', 'app-fixture');
let srv: RunningServer;
let userId: string;
let appDir: string;

before(async () => {
  appDir = path.join(tempDir('atrium-runas-'), 'app');
  fs.cpSync(FIXTURE, appDir, { recursive: true });
  const dataDir = tempDir('atrium-runas-data-');
  const created = await runCli(['users', 'create', appDir, '--email', 'fixed@example.com', '--password', 'fixed-pass', '--data-dir', dataDir]);
  assert.equal(created.code, 0, created.stderr);
  userId = /Created user ([0-9a-f]{24})/.exec(created.stdout)![1];

  const fnConfig = JSON.parse(fs.readFileSync(path.join(appDir, 'functions', 'config.json'), 'utf8')) as unknown[];
  fnConfig.push({ name: 'asFixed', private: false, run_as_user_id: userId });
  fs.writeFileSync(path.join(appDir, 'functions', 'config.json'), JSON.stringify(fnConfig));
  fs.copyFileSync(path.join(appDir, 'functions', 'whoami.js'), path.join(appDir, 'functions', 'asFixed.js'));
  const endpoints = JSON.parse(fs.readFileSync(path.join(appDir, 'http_endpoints', 'config.json'), 'utf8')) as unknown[];
  endpoints.push({ route: '/fixed', http_method: 'GET', function_name: 'asFixed', validation_method: 'NO_VALIDATION', respond_result: true, return_type: 'JSON' });
  fs.writeFileSync(path.join(appDir, 'http_endpoints', 'config.json'), JSON.stringify(endpoints));

  srv = await startAtrium(appDir, { dataDir, env: { ATRIUM_SECRET_JWTSIGNINGKEY: 'k'.repeat(40) }, args: ['--workers', '1', '--log-format', 'none'] });
});

after(async () => {
  await srv?.stop();
});

test('run_as_user_id: no credentials needed, the function runs as that user; disabling the user stops it', async () => {
  const res = await fetch(`${srv.endpointBase}/fixed`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { id: userId, type: 'normal', data: { email: 'fixed@example.com' }, providers: ['local-userpass'], system: false });
  assert.match(srv.stderr(), new RegExp(`/fixed +\\[user ${userId}; NO_VALIDATION\\]`));

  assert.equal((await runCli(['users', 'disable', appDir, userId, '--data-dir', srv.dataDir])).code, 0);
  // The CLI is another process: the server notices once its memory of the user lapses (about a second).
  let off = await fetch(`${srv.endpointBase}/fixed`);
  for (let i = 0; i < 100 && off.status === 200; i++) {
    await off.arrayBuffer();
    await new Promise((r) => setTimeout(r, 100));
    off = await fetch(`${srv.endpointBase}/fixed`);
  }
  assert.equal(off.status, 401);
  assert.equal(((await off.json()) as { error_code: string }).error_code, 'UserDisabled');
});
