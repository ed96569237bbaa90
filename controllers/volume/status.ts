import type { VolumeStatus } from '../../src/db/schema.ts';
import { reasons } from './reasons.ts';

/** Ready=False reasons shown as the `error` phase: the terminal ones and a full storage (retried: room may come back). */
const errorReasons = new Set<string>([reasons.noFreeSlot, reasons.volumeMissing, reasons.storageUnavailable,
  reasons.storageFull]);

export interface PhaseInput {
  deleting: boolean;
  /** The reason of the Ready=False condition being decided, if any. */
  readyFalseReason?: string | undefined;
  /** The volume's disk exists (its id is known). */
  exists: boolean;
  /** Where the disk is now, when it was seen; null when not looked at. */
  attachedNow: boolean | null;
  current: VolumeStatus;
}

/** The spec's one-word phase: creating, attached, detached, error, deleting. */
export function volumePhase(input: PhaseInput): VolumeStatus {
  if (input.deleting) return 'deleting';
  if (input.readyFalseReason && errorReasons.has(input.readyFalseReason)) return 'error';
  if (!input.exists) return 'creating';
  if (input.attachedNow !== null) return input.attachedNow ? 'attached' : 'detached';
  return input.current === 'attached' || input.current === 'detached' ? input.current : 'creating';
}
