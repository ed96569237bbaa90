import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Database } from '../../src/db/schema.ts';
import type { JobEngine } from '../../src/jobs/engine.ts';
import type { Logger } from '../../src/observability/logger.ts';
import type { ProxmoxClient } from '../../src/proxmox/client.ts';
import { registerReconciler } from '../../src/runtime/controller.ts';
import { volumeKind } from '../../src/volumes/orders.ts';
import { allVolumeIds } from '../../src/volumes/store.ts';
import { createVolumeReconciler } from './reconcile.ts';

export interface VolumeControllerSettings {
  taskPollMs: number;
  resyncEveryMs?: number;
}

/** Registers the volume controller on the job engine (`volume.reconcile`, and `volume.resync` every 5 minutes by default). */
export function registerVolumeController(deps: { engine: JobEngine; db: Kysely<Database>; logger: Logger; registry?: Registry;
  proxmox: ProxmoxClient }, settings: VolumeControllerSettings): void {
  registerReconciler(deps, {
    kind: volumeKind,
    resyncEveryMs: settings.resyncEveryMs ?? 300_000,
    listIds: allVolumeIds,
    timeoutMs: 120_000,
    reconcile: createVolumeReconciler({ db: deps.db, proxmox: deps.proxmox, logger: deps.logger, taskPollMs: settings.taskPollMs }),
  });
}
