import path from 'node:path';
import { startFakeKubeApiserver, type FakeKubeApiserver, type FakeKubeApiserverOptions } from './server.ts';

export type { FakeKubeApiserver, FaultRule } from './server.ts';

/** The fake kube-apiserver serving the project's CRDs. */
export function startKubeApiserver(options: Partial<FakeKubeApiserverOptions> = {}): Promise<FakeKubeApiserver> {
  return startFakeKubeApiserver({ crdsDirectory: path.join(import.meta.dirname, '../../../crds'), ...options });
}
