import { Registry } from 'prom-client';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../src/observability/logger.ts';
import { setCondition } from '../src/runtime/conditions.ts';
import { registerReconciler } from '../src/runtime/controller.ts';
import { defineKind } from '../src/runtime/kind.ts';
import { TerminalError } from '../src/runtime/errors.ts';
import { done, requeueAfter } from '../src/runtime/result.ts';
import { anEngine } from './support/jobs.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

const test = suite('controller runtime');
const widget = defineKind('widget');
let database: TestDatabase;

test.before(async () => { database = await testDatabase(); });
test.after(async () => { await database?.drop(); });

test('conditions move lastTransitionTime only when their status changes', () => {
  const t1 = new Date('2026-01-01T00:00:00Z');
  const t2 = new Date('2026-01-01T00:05:00Z');
  const first = setCondition([], { type: 'Ready', status: 'False', reason: 'Provisioning', message: 'cloning' }, 1, t1);
  assert.equal(first, [{ type: 'Ready', status: 'False', reason: 'Provisioning', message: 'cloning',
    lastTransitionTime: t1.toISOString(), observedGeneration: 1 }]);
  const same = setCondition(first, { type: 'Ready', status: 'False', reason: 'Starting', message: 'booting' }, 2, t2);
  assert.is(same[0]!.lastTransitionTime, t1.toISOString(), 'same status: the transition time stays');
  assert.equal([same[0]!.reason, same[0]!.observedGeneration], ['Starting', 2]);
  const flipped = setCondition(same, { type: 'Ready', status: 'True', reason: 'Active', message: 'running' }, 2, t2);
  assert.is(flipped[0]!.lastTransitionTime, t2.toISOString());
  const more = setCondition(flipped, { type: 'NeedsReboot', status: 'True', reason: 'Pending', message: 'cores' }, 2, t2);
  assert.equal(more.map((c) => c.type), ['Ready', 'NeedsReboot'], 'others are kept, in order');
});

test('requeue, terminal and transient results, and the periodic resync', async () => {
  const calls: Record<string, number> = {};
  const registry = new Registry();
  const engine = anEngine(database);
  registerReconciler({ engine, db: database.db, logger: createLogger({ level: 'silent' }), registry }, {
    kind: widget,
    resyncEveryMs: 400,
    listIds: async () => ['synced-1', 'synced-2'],
    async reconcile(id) {
      calls[id] = (calls[id] ?? 0) + 1;
      if (id === 'requeue' && calls[id] === 1) return requeueAfter(50);
      if (id === 'terminal') throw new TerminalError('TemplateInvalid', 'no such template');
      if (id === 'flaky' && calls[id] === 1) throw new Error('proxmox answered 503');
      return done();
    },
  });
  await engine.start();
  try {
    for (const id of ['requeue', 'terminal', 'flaky']) await widget.enqueue(engine, database.db, id);
    await waitFor('every object reconciled as asked', () => ({ ...calls }), (c) =>
      c.requeue === 2 && c.terminal === 1 && c.flaky === 2 && (c['synced-1'] ?? 0) >= 1 && (c['synced-2'] ?? 0) >= 1,
    { timeoutMs: 20_000 });
    assert.is(calls.terminal, 1, 'a terminal error is not retried');
    const text = await registry.metrics();
    assert.match(text, /cloudpods_reconcile_total\{kind="widget",result="terminal"\} 1/);
    assert.match(text, /cloudpods_reconcile_total\{kind="widget",result="requeue"\} 1/);
    assert.match(text, /cloudpods_reconcile_errors_total\{kind="widget",reason="TerminalError:TemplateInvalid"\} 1/);
    assert.match(text, /cloudpods_reconcile_errors_total\{kind="widget",reason="Error"\} 1/);
  } finally {
    await engine.stop();
  }
});

test.run();
