import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { renderCrds } from '../src/kube/crds/index.ts';
import { loadCrds } from './support/kube-apiserver/resources.ts';

const test = suite('kube CRDs');
const crds = path.join(import.meta.dirname, '../crds');

test('the committed crds/*.yaml, and the Helm chart\'s, are exactly what `npm run crds` generates', () => {
  const generated = renderCrds();
  for (const directory of [crds, path.join(import.meta.dirname, '../helm/cloudpods/crds')]) {
    const committed = readdirSync(directory).filter((f) => f.endsWith('.yaml')).sort();
    assert.equal(committed, [...generated.keys()].sort(), `${directory}: one file per kind, nothing else`);
    for (const [file, text] of generated) {
      assert.is(readFileSync(path.join(directory, file), 'utf8'), text, `${directory}/${file} differs: run npm run crds`);
    }
  }
});

test('every kind: group, namespaced, status subresource, category cloudpods, Ready and Age columns', () => {
  for (const type of loadCrds(crds)) {
    assert.is(type.group, 'cloudpods.mpanel.io');
    assert.is(type.version, 'v1alpha1');
    assert.ok(type.namespaced && type.statusSubresource, type.kind);
    assert.equal(type.categories, ['cloudpods']);
    assert.ok(type.shortNames.length > 0);
    assert.ok(type.columns.some((c) => c.name === 'Ready') && type.columns.some((c) => c.name === 'Age'));
  }
  const pod = loadCrds(crds).find((t) => t.kind === 'CloudPod')!;
  assert.equal(pod.columns.map((c) => c.name), ['Phase', 'Ready', 'Healthy', 'IP', 'Node', 'VMID', 'Age']);
});

test('every example is a manifest of one of our kinds', () => {
  const kinds = loadCrds(crds).map((t) => t.kind).sort();
  const examples = readdirSync(path.join(import.meta.dirname, '../examples')).filter((f) => f.endsWith('.yaml'));
  const exampleKinds = examples.map((f) => parse(readFileSync(path.join(import.meta.dirname, '../examples', f), 'utf8')).kind).sort();
  assert.equal(exampleKinds, kinds);
});

test.run();
