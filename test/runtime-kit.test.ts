import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PodRow } from '../src/pods/store.ts';
import { createLogger } from '../src/observability/logger.ts';
import { defineKind } from '../src/runtime/kind.ts';
import { buildController, registerController, type ControllerDefinition, type Decision } from '../src/runtime/kit.ts';
import { TerminalError } from '../src/runtime/errors.ts';
import { requeueAfter } from '../src/runtime/result.ts';
import { stalledReason } from '../src/runtime/status.ts';
import { aPod, aTemplate, aTenant } from './support/fixtures.ts';
import { anEngine } from './support/jobs.ts';
import { testDatabase, type TestDatabase } from './support/postgres.ts';
import { waitFor } from './support/wait.ts';

const test = suite('controller kit');
let database: TestDatabase;

test.before(async () => { database = await testDatabase(); });
test.after(async () => { await database?.drop(); });

const logger = createLogger({ level: 'silent' });
const context = { signal: new AbortController().signal, attempt: 1 };
const kind = defineKind('widget', 'cloudpods');

async function aRow(): Promise<PodRow> {
  const tenant = await aTenant(database.db);
  return aPod(database.db, { tenant, template: await aTemplate(database.db) });
}
const reread = (id: string) => database.db.selectFrom('cloud_pods').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

type Step = 'one' | 'two';
type Scripted = Decision<Step, PodRow['status']>;

/** A controller whose decisions are scripted: each run of `decide` takes the next one; acts are recorded. */
function scripted(decisions: Array<Scripted | (() => never)>, extra: Partial<ControllerDefinition<PodRow, { row: PodRow },
  null, Step>> = {}) {
  const acts: Step[] = [];
  const phases: string[] = [];
  let loads = 0;
  const definition: ControllerDefinition<PodRow, { row: PodRow }, null, Step> = {
    kind, table: 'cloud_pods',
    load: async (id) => {
      loads++;
      const row = await database.db.selectFrom('cloud_pods').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? { row } : undefined;
    },
    observe: async () => null,
    decide: () => {
      const next = decisions.shift();
      if (!next) throw new Error('decide was called more often than scripted');
      return typeof next === 'function' ? next() : next;
    },
    act: async (step) => { acts.push(step); },
    onPhaseChange: async (trx, row, next) => {
      phases.push(`${row.status}->${next.status}`);
      await trx.selectFrom('cloud_pods').select('id').where('id', '=', row.id).execute();
    },
    resyncIds: async () => [],
    resyncEveryMs: 3_600_000,
    ...extra,
  };
  return { controller: buildController({ db: database.db, logger }, definition), acts, phases, loads: () => loads };
}

const ready = (reason: string, status: 'True' | 'False' = 'False') => ({ type: 'Ready', status, reason, message: reason });

test('steps run back to back; status is written once, at the end, from every decision of the run', async () => {
  const row = await aRow();
  const { controller, acts, phases } = scripted([
    { step: 'one', conditions: [ready('Cloning')], phase: 'provisioning' },
    { step: 'two', conditions: [ready('Starting'), { type: 'Provisioned', status: 'True', reason: 'Cloned', message: 'ok' }] },
    { conditions: [ready('Active', 'True')], phase: 'active', requeueAfterMs: 5_000 },
  ]);
  const result = await controller.reconcile(row.id, context);
  assert.equal(acts, ['one', 'two']);
  assert.equal(result, { requeueAfterMs: 5_000 });
  const after = await reread(row.id);
  assert.equal([after.status, after.observed_generation], ['active', after.generation]);
  assert.equal(after.conditions.map((c) => [c.type, c.status, c.reason]),
    [['Ready', 'True', 'Active'], ['Provisioned', 'True', 'Cloned']]);
  assert.equal(phases, ['pending->active'], 'one phase change, seen in the write\'s transaction');
});

test('a phase change is audited by the runtime, as <kind>.<phase> by the controller, in the status write', async () => {
  const row = await aRow();
  await scripted([{ conditions: [ready('Active', 'True')], phase: 'active' }], {
    audit: { category: 'lifecycle', podId: (pod) => pod.id, details: (pod) => ({ vmid: pod.vmid }) },
  }).controller.reconcile(row.id, context);
  const audited = await database.db.selectFrom('cloud_pod_audit').selectAll().where('pod_id', '=', row.id).execute();
  assert.equal(audited.map((a) => [a.actor_type, a.actor_id, a.category, a.action, a.details]),
    [['controller', 'widget', 'lifecycle', 'widget.active', { from: 'pending', to: 'active', vmid: null }]]);
});

test('an unchanged status is not written again', async () => {
  const row = await aRow();
  const settled: Scripted = { conditions: [ready('Active', 'True')], phase: 'active' };
  await scripted([settled]).controller.reconcile(row.id, context);
  const first = await reread(row.id);
  await scripted([settled]).controller.reconcile(row.id, context);
  const second = await reread(row.id);
  assert.is(second.updated_at.getTime(), first.updated_at.getTime(), 'no write when nothing changed');
});

test('status computed for one generation is never written over a newer spec', async () => {
  const row = await aRow();
  const { controller } = scripted([{ step: 'one' }, { conditions: [ready('Active', 'True')], phase: 'active' }], {
    act: async () => {
      await database.db.updateTable('cloud_pods').set({ generation: sql`generation + 1` }).where('id', '=', row.id).execute();
    },
  });
  await controller.reconcile(row.id, context);
  const after = await reread(row.id);
  // The act bumped the generation, the reload saw it: the decision is for the new generation and lands.
  assert.equal([after.generation, after.observed_generation, after.status], [2, 2, 'active']);

  const fenced = scripted([{ conditions: [ready('Active', 'True')], phase: 'active' }], {
    observe: async () => {
      await database.db.updateTable('cloud_pods').set({ generation: sql`generation + 1` }).where('id', '=', row.id).execute();
      return null;
    },
  });
  await fenced.controller.reconcile(row.id, context);
  const later = await reread(row.id);
  assert.equal([later.generation, later.observed_generation], [3, 2], 'decided for generation 2, so not written on 3');
});

test('a terminal decision: Ready=False with its reason, Stalled, counted; nothing runs until the spec changes', async () => {
  const row = await aRow();
  const registry = new Registry();
  const engine = anEngine(database);
  let decides = 0;
  registerController({ engine, db: database.db, logger, registry }, {
    kind: defineKind('gadget'), table: 'cloud_pods',
    load: async (id) => ({ row: await reread(id) }),
    observe: async () => null,
    decide: () => {
      decides++;
      return { terminal: { reason: 'TemplateInvalid', message: 'VM 9000 is not a template' }, phase: 'error' };
    },
    act: async () => undefined,
    resyncIds: async () => [],
    resyncEveryMs: 3_600_000,
  });
  await engine.start();
  try {
    await defineKind('gadget').enqueue(engine, database.db, row.id);
    const stalled = await waitFor('the row stalled', () => reread(row.id), (r) => stalledReason(r) !== null);
    assert.equal([stalled.status, stalled.observed_generation], ['error', stalled.generation]);
    assert.equal(stalled.conditions.map((c) => [c.type, c.status, c.reason]),
      [['Ready', 'False', 'TemplateInvalid'], ['Stalled', 'True', 'TemplateInvalid']]);
    assert.match(await registry.metrics(), /cloudpods_reconcile_total\{kind="gadget",result="terminal"\} 1/);

    const again = buildController({ db: database.db, logger }, {
      kind, table: 'cloud_pods', load: async (id) => ({ row: await reread(id) }), observe: async () => null,
      decide: () => { throw new Error('a stalled generation is not decided again'); },
      act: async () => undefined, resyncIds: async () => [], resyncEveryMs: 1,
    });
    assert.equal(await again.reconcile(row.id, context), { requeueAfterMs: null });
    assert.is(decides, 1);
  } finally {
    await engine.stop();
  }

  await database.db.updateTable('cloud_pods').set({ generation: sql`generation + 1` }).where('id', '=', row.id).execute();
  const fixed = scripted([{ conditions: [ready('Active', 'True')], phase: 'active' }]);
  await fixed.controller.reconcile(row.id, context);
  const after = await reread(row.id);
  assert.equal(after.conditions.map((c) => c.type), ['Ready'], 'a decision that is not terminal removes Stalled');
  assert.is(stalledReason(after), null);
});

test('a TerminalError thrown by act is a terminal decision; another error records the failure condition and rethrows', async () => {
  const row = await aRow();
  const terminal = scripted([{ step: 'one', phase: 'error' }], {
    act: async () => { throw new TerminalError('Rejected', 'PowerDNS refused the record'); },
  });
  const result = await terminal.controller.reconcile(row.id, context);
  assert.equal(result, { requeueAfterMs: null, terminal: 'Rejected' });
  assert.is(stalledReason(await reread(row.id)), 'Rejected');

  const other = await aRow();
  const failing = scripted([{ step: 'one', conditions: [ready('Cloning')], phase: 'provisioning' }], {
    act: async () => { throw new Error('proxmox answered 503'); },
    failure: (error) => ({ type: 'Ready', status: 'False', reason: 'ProxmoxUnavailable', message: error.message }),
  });
  const thrown = await failing.controller.reconcile(other.id, context).then(() => null, (error: Error) => error);
  assert.match(String(thrown), /503/, 'the error goes back to the engine for its backoff');
  const after = await reread(other.id);
  assert.equal([after.status, after.observed_generation], ['pending', after.generation], 'the phase kept; the status is this generation\'s');
  assert.equal(after.conditions.map((c) => [c.reason, c.message]), [['ProxmoxUnavailable', 'proxmox answered 503']]);
});

test('an act may end the run with its own result; a vanished row ends it quietly; the step bound requeues at once', async () => {
  const row = await aRow();
  const ending = scripted([{ step: 'one', conditions: [ready('Cloning')] }], { act: async () => requeueAfter(750) });
  assert.equal(await ending.controller.reconcile(row.id, context), { requeueAfterMs: 750 });
  assert.is((await reread(row.id)).conditions[0]?.reason, 'Cloning', 'the deciding step\'s conditions are written');

  const gone = await aRow();
  const removing = scripted([{ step: 'one' }], {
    act: async () => { await database.db.deleteFrom('cloud_pods').where('id', '=', gone.id).execute(); },
  });
  assert.equal(await removing.controller.reconcile(gone.id, context), { requeueAfterMs: null });

  const busy = await aRow();
  const bounded = scripted([{ step: 'one' }, { step: 'two' }], { maxSteps: 2 });
  assert.equal(await bounded.controller.reconcile(busy.id, context), { requeueAfterMs: 0 });
  assert.equal(bounded.acts, ['one', 'two']);
});

test('an act that could not write tells the next decision; a flush writes the progress before a long wait', async () => {
  const row = await aRow();
  const told: Array<string | undefined> = [];
  let seenDuringWait: PodRow | undefined;
  let observations = 0;
  const controller = buildController({ db: database.db, logger }, {
    kind, table: 'cloud_pods',
    load: async (id) => ({ row: await reread(id) }),
    observe: async (_loaded, run) => {
      // The second look waits on something long: what was decided so far is written first.
      if (++observations === 2) {
        await run.flush();
        seenDuringWait = await reread(row.id);
      }
      return null;
    },
    decide: (_loaded, _seen, outcome?: string) => {
      told.push(outcome);
      return outcome === 'no-slot' ? { conditions: [ready('CloneQueued')], requeueAfterMs: 5_000 }
        : { step: 'one' as const, conditions: [ready('Cloning')], phase: 'provisioning' as const };
    },
    act: async () => ({ outcome: 'no-slot' }),
    resyncIds: async () => [], resyncEveryMs: 1,
  });
  assert.equal(await controller.reconcile(row.id, context), { requeueAfterMs: 5_000 });
  assert.equal(told, [undefined, 'no-slot'], 'the outcome reaches the next decision, once');
  assert.equal([seenDuringWait?.status, seenDuringWait?.conditions[0]?.reason], ['provisioning', 'Cloning'],
    'the progress was visible while the run waited');
  assert.equal((await reread(row.id)).conditions.map((c) => c.reason), ['CloneQueued']);
});

test.run();
