import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, configVariables, loadConfig } from '../src/config.ts';
import { withConfigurationTable } from '../src/config-reference.ts';

const test = suite('config');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cloudpods-config-'));

function problemsOf(work: () => unknown): string[] {
  try {
    work();
  } catch (error) {
    assert.instance(error, ConfigError);
    return (error as ConfigError).problems;
  }
  assert.unreachable('expected a ConfigError');
  return [];
}

test('dev needs no configuration at all', () => {
  const config = loadConfig({ mode: 'dev', env: {} });
  assert.is(config.server.port, 8080);
  assert.is(config.server.host, '127.0.0.1');
  assert.is(config.database.url, undefined);
  assert.is(config.log.level, 'info');
});

test('serve listens on every interface and requires DATABASE_URL', () => {
  const problems = problemsOf(() => loadConfig({ mode: 'serve', env: {} }));
  assert.equal(problems, ['database.url (DATABASE_URL): required by `cloudpods serve`']);
  const config = loadConfig({ mode: 'serve', env: { DATABASE_URL: 'postgres://u:p@db:5432/cloudpods' } });
  assert.is(config.server.host, '0.0.0.0');
});

test('every bad field is reported at once, naming field and variable', () => {
  const problems = problemsOf(() => loadConfig({
    mode: 'serve',
    env: {
      CLOUDPODS_PORT: 'eighty', CLOUDPODS_DB_POOL_MAX: '0', LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://x', CLOUDPODS_BODY_LIMIT_BYTES: '1.5',
    },
  }));
  assert.is(problems.length, 5, problems.join('\n'));
  const text = problems.join('\n');
  for (const fragment of ['server.port (CLOUDPODS_PORT)', 'database.poolMax (CLOUDPODS_DB_POOL_MAX): expected at least 1',
    'log.level (LOG_LEVEL): expected one of', 'database.url (DATABASE_URL): expected a postgres://',
    'server.bodyLimitBytes (CLOUDPODS_BODY_LIMIT_BYTES): expected a whole number']) {
    assert.ok(text.includes(fragment), `missing "${fragment}" in:\n${text}`);
  }
  assert.ok(text.includes('got "eighty"'), 'shows the bad value of an ordinary setting');
  assert.not.ok(text.includes('mysql://x'), 'never echoes a secret');
});

test('a YAML file is read; environment variables win over it', () => {
  const file = path.join(tmp, 'cloudpods.yaml');
  writeFileSync(file, 'server:\n  port: 9090\n  bodyLimitBytes: 4096\nlog:\n  level: debug\n');
  const config = loadConfig({ mode: 'dev', env: { CLOUDPODS_CONFIG: file, LOG_LEVEL: 'warn' } });
  assert.is(config.server.port, 9090);
  assert.is(config.server.bodyLimitBytes, 4096);
  assert.is(config.log.level, 'warn');
});

test('unknown YAML keys, bad YAML and a missing file are errors', () => {
  const typo = path.join(tmp, 'typo.yaml');
  writeFileSync(typo, 'server:\n  prot: 1\ndatabse: {}\n');
  assert.equal(problemsOf(() => loadConfig({ mode: 'dev', env: { CLOUDPODS_CONFIG: typo } })).sort(), [
    'databse: unknown setting in CLOUDPODS_CONFIG',
    'server.prot: unknown setting in CLOUDPODS_CONFIG',
  ]);
  const broken = path.join(tmp, 'broken.yaml');
  writeFileSync(broken, 'server: [1, 2\n');
  assert.match(problemsOf(() => loadConfig({ mode: 'dev', env: { CLOUDPODS_CONFIG: broken } }))[0]!, /not valid YAML/);
  assert.match(problemsOf(() => loadConfig({ mode: 'dev', env: { CLOUDPODS_CONFIG: path.join(tmp, 'none.yaml') } }))[0]!,
    /cannot read .*none\.yaml: ENOENT/);
});

test('secrets may come from *_FILE variables', () => {
  const secret = path.join(tmp, 'database-url');
  writeFileSync(secret, 'postgres://app:s3cret@db/cloudpods\n');
  const config = loadConfig({ mode: 'serve', env: { DATABASE_URL_FILE: secret } });
  assert.is(config.database.url, 'postgres://app:s3cret@db/cloudpods');
  const problems = problemsOf(() => loadConfig({ mode: 'serve', env: { DATABASE_URL_FILE: path.join(tmp, 'gone') } }));
  assert.match(problems[0]!, /^database\.url \(DATABASE_URL_FILE\): cannot read/);
});

test('README and docs/configuration.md carry the current generated table of every variable', () => {
  for (const file of ['README.md', 'docs/configuration.md']) {
    const text = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
    assert.fixture(text, withConfigurationTable(text), `${file} is stale: run npm run docs`);
    for (const variable of configVariables) assert.ok(text.includes(`\`${variable.env}\``), `${file}: ${variable.env}`);
  }
});

test('the CLI prints every problem and exits with code 2', () => {
  const cli = new URL('../src/cli.ts', import.meta.url).pathname;
  const result = spawnSync(process.execPath, [cli, 'serve'], {
    env: { PATH: process.env.PATH, CLOUDPODS_PORT: '70000', LOG_LEVEL: 'chatty' }, encoding: 'utf8',
  });
  assert.is(result.status, 2, result.stderr);
  assert.match(result.stderr, /invalid configuration:/);
  assert.match(result.stderr, /server\.port \(CLOUDPODS_PORT\): expected at most 65535/);
  assert.match(result.stderr, /log\.level \(LOG_LEVEL\)/);
  assert.match(result.stderr, /database\.url \(DATABASE_URL\)/);
});

test.run();
