import type { Condition, VolumeStatus } from '../../src/db/schema.ts';
import { findCondition } from '../../src/runtime/conditions.ts';

/** Reasons that mean "the spec cannot be met as written": the controller waits for the spec to change. */
export const terminalReasons = new Set(['NoFreeSlot', 'VolumeMissing', 'StorageUnavailable']);
/** Reasons shown as the `error` phase: the terminal ones and a full storage (retried, since room may come back). */
const errorReasons = new Set([...terminalReasons, 'StorageFull']);

function readyOf(conditions: readonly Condition[], generation: number): Condition | undefined {
  const ready = findCondition(conditions, 'Ready');
  return ready && ready.status === 'False' && ready.observedGeneration === generation ? ready : undefined;
}

/** The reason a volume's current generation stopped on, if it stopped on a terminal one. */
export function terminalReasonOf(conditions: readonly Condition[], generation: number): string | null {
  const reason = readyOf(conditions, generation)?.reason;
  return reason && terminalReasons.has(reason) ? reason : null;
}

export interface PhaseInput {
  deleting: boolean;
  conditions: readonly Condition[];
  generation: number;
  /** The volume's disk exists (its id is known). */
  exists: boolean;
  /** Where the disk is now, when it was seen; null when not looked at. */
  attachedNow: boolean | null;
  current: VolumeStatus;
}

/** The spec's one-word phase: creating, attached, detached, error, deleting. */
export function volumePhase(input: PhaseInput): VolumeStatus {
  if (input.deleting) return 'deleting';
  const reason = readyOf(input.conditions, input.generation)?.reason;
  if (reason && errorReasons.has(reason)) return 'error';
  if (!input.exists) return 'creating';
  if (input.attachedNow !== null) return input.attachedNow ? 'attached' : 'detached';
  return input.current === 'attached' || input.current === 'detached' ? input.current : 'creating';
}
