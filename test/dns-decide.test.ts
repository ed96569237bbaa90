import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decideRecord, type DnsStep } from '../controllers/dns-record/decide.ts';
import type { DnsObservation, RRsetView } from '../controllers/dns-record/observe.ts';
import type { DnsRecordRow } from '../src/db/schema.ts';
import { ownerMarker } from '../src/powerdns/ownership.ts';
import type { PdnsRRset } from '../src/powerdns/types.ts';

const test = suite('dns-record controller decisions');
const timings = { notServedRetryMs: 250, errorRetryMs: 60_000 };
const zone = { id: 'example.test.', name: 'example.test.', kind: 'Native', serial: 1 };
const reverseZone = { id: '2.0.192.in-addr.arpa.', name: '2.0.192.in-addr.arpa.', kind: 'Native', serial: 1 };

const row = (fields: Partial<DnsRecordRow> = {}): DnsRecordRow => ({
  id: 'r1', tenant_id: 't1', pod_id: 'p1', zone_name: 'example.test', hostname: 'web.example.test', ip_address: '192.0.2.10',
  type: 'A', ttl: 300, ptr: false, status: 'pending', origin: 'api', managed_by: 'api', generation: 1,
  observed_generation: 0, conditions: [], deletion_requested_at: null, kube_uid: null, kube_namespace: null,
  kube_name: null, created_at: new Date(0), updated_at: new Date(0), ...fields,
} as DnsRecordRow);

const served = (generation: number) => ({ type: 'Ready', status: 'True' as const, reason: 'Served', message: '',
  lastTransitionTime: '', observedGeneration: generation });
const ours = (name: string, type: string, content: string, ttl = 300): PdnsRRset => ({
  name, type, ttl, records: [{ content, disabled: false }], comments: [ownerMarker('cloudpods')],
});
const theirs = (name: string, type: string, content: string): PdnsRRset => ({
  name, type, ttl: 300, records: [{ content, disabled: false }], comments: [],
});

const forwardView = (rrsets: PdnsRRset[], answers: string[] | null, contents = ['192.0.2.10'], withZone = true): RRsetView => ({
  desired: { name: 'web.example.test.', type: 'A', ttl: 300, contents },
  zone: withZone ? zone : null, rrsets,
  answers: answers?.map((data) => ({ name: 'web.example.test.', type: 'A', ttl: 300, data })) ?? null, answerText: 'NOERROR',
});
const ptrView = (rrsets: PdnsRRset[], answers: string[] | null, contents = ['web.example.test.'], withZone = true): RRsetView => ({
  desired: { name: '10.2.0.192.in-addr.arpa.', type: 'PTR', ttl: 300, contents },
  zone: withZone ? reverseZone : null, rrsets,
  answers: answers?.map((data) => ({ name: '10.2.0.192.in-addr.arpa.', type: 'PTR', ttl: 300, data })) ?? null, answerText: 'NOERROR',
});
const seen = (forward: RRsetView, ptr: RRsetView | null = null): DnsObservation => ({ ownerId: 'cloudpods', forward, ptr });

const servedForward = forwardView([ours('web.example.test.', 'A', '192.0.2.10')], ['192.0.2.10']);
const servedPtr = ptrView([ours('10.2.0.192.in-addr.arpa.', 'PTR', 'web.example.test.')], ['web.example.test.']);

const stepOf = (step: DnsStep | undefined) => step?.kind === 'write'
  ? `write ${step.change.changetype} ${step.change.name} ${step.change.type}${step.drift ? ' (drift)' : ''}` : step?.kind;

test('decisions, one row per case: the next write, or the phase, Ready and PtrReady reasons and the next look', () => {
  const cases: Array<[name: string, row: DnsRecordRow, seen: DnsObservation, step: string | undefined, phase?: string,
    ready?: string, ptrReady?: string, requeue?: number | null]> = [
    ['nothing at the name: write the forward RRset', row(), seen(forwardView([], [])), 'write REPLACE web.example.test. A'],
    ['written and served: active, Served', row(), seen(servedForward), undefined, 'active', 'Served', undefined, null],
    ['written but not served yet: pending, looked at again soon', row(), seen(forwardView(servedForward.rrsets, [])),
      undefined, 'pending', 'NotServed', undefined, 250],
    ['a CNAME at the name: error Conflict, never written', row(),
      seen(forwardView([theirs('web.example.test.', 'CNAME', 'elsewhere.test.')], null)), undefined, 'error', 'Conflict', undefined, 60_000],
    ['a foreign A record: error Conflict', row(), seen(forwardView([theirs('web.example.test.', 'A', '198.51.100.1')], null)),
      undefined, 'error', 'Conflict', undefined, 60_000],
    ['no zone: error ZoneNotFound', row(), seen(forwardView([], null, ['192.0.2.10'], false)), undefined, 'error', 'ZoneNotFound',
      undefined, 60_000],
    ['an active record changed behind our back: rewritten as drift', row({ status: 'active', observed_generation: 1,
      conditions: [served(1)] }),
      seen(forwardView([ours('web.example.test.', 'A', '192.0.2.99')], ['192.0.2.99'])), 'write REPLACE web.example.test. A (drift)'],
    ['a new spec is no drift', row({ status: 'active', generation: 2, observed_generation: 1, conditions: [served(1)] }),
      seen(forwardView([ours('web.example.test.', 'A', '192.0.2.99')], ['192.0.2.99'])), 'write REPLACE web.example.test. A'],
    ['forward first, then the PTR', row({ ptr: true }), seen(forwardView([], []), ptrView([], [])), 'write REPLACE web.example.test. A'],
    ['the PTR once the forward RRset is served', row({ ptr: true }), seen(servedForward, ptrView([], [])),
      'write REPLACE 10.2.0.192.in-addr.arpa. PTR'],
    ['both served: PtrReady Served', row({ ptr: true }), seen(servedForward, servedPtr), undefined, 'active', 'Served', 'Served', null],
    ['no reverse zone: the A record is still served, PtrReady ZoneNotFound', row({ ptr: true }),
      seen(servedForward, ptrView([], null, ['web.example.test.'], false)), undefined, 'active', 'Served', 'ZoneNotFound', null],
    ['PTR switched off: our PTR removed', row({ conditions: [{ type: 'PtrReady', status: 'True', reason: 'Served', message: '',
      lastTransitionTime: '', observedGeneration: 1 }] }), seen(servedForward, ptrView(servedPtr.rrsets, servedPtr.answers!.map((a) => a.data), [])),
      'write DELETE 10.2.0.192.in-addr.arpa. PTR'],
    ['deleting: the PTR goes first', row({ ptr: true, deletion_requested_at: new Date() }),
      seen(forwardView(servedForward.rrsets, ['192.0.2.10'], []), ptrView(servedPtr.rrsets, ['web.example.test.'], [])),
      'write DELETE 10.2.0.192.in-addr.arpa. PTR'],
    ['deleting: then the forward RRset', row({ deletion_requested_at: new Date() }),
      seen(forwardView(servedForward.rrsets, ['192.0.2.10'], [])), 'write DELETE web.example.test. A'],
    ['deleting: still answered, Deleting, looked at again soon', row({ deletion_requested_at: new Date() }),
      seen(forwardView([], ['192.0.2.10'], [])), undefined, undefined, 'Deleting', undefined, 250],
    ['deleting: gone from the server, the row goes', row({ deletion_requested_at: new Date() }),
      seen(forwardView([], [], [])), 'delete-row'],
    ['deleting: a foreign record is left alone and the row goes', row({ deletion_requested_at: new Date() }),
      seen(forwardView([theirs('web.example.test.', 'A', '198.51.100.1')], ['198.51.100.1'], [])), 'delete-row'],
    ['deleting without a zone: the row goes', row({ deletion_requested_at: new Date() }),
      seen(forwardView([], null, [], false)), 'delete-row'],
  ];
  for (const [name, record, observation, step, phase, ready, ptrReady, requeue] of cases) {
    const decision = decideRecord(record, observation, timings);
    assert.is(stepOf(decision.step), step, `${name}: step`);
    if (step) continue;
    const reasonOf = (type: string) => decision.conditions?.find((c) => 'type' in c && c.type === type) as { reason: string } | undefined;
    assert.is(decision.phase, phase, `${name}: phase`);
    assert.is(reasonOf('Ready')?.reason, ready, `${name}: Ready`);
    assert.is(reasonOf('PtrReady')?.reason, ptrReady, `${name}: PtrReady`);
    assert.is(decision.requeueAfterMs ?? null, requeue ?? null, `${name}: next look`);
  }
});

test('a record PowerDNS refuses is terminal: Rejected, shown as error', () => {
  const decision = decideRecord(row(), seen(forwardView([], [])), timings, { kind: 'rejected', message: 'Invalid record content' });
  assert.equal([decision.terminal, decision.phase, decision.step], [{ reason: 'Rejected', message: 'Invalid record content' }, 'error',
    undefined]);
});

test.run();
