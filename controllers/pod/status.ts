import type { PodStatus } from '../../src/db/schema.ts';

export interface StatusInput {
  deleting: boolean;
  settled: boolean;
  terminal: boolean;
  placed: boolean;
  desiredPower: 'running' | 'stopped';
  current: PodStatus;
  provisioned: boolean;
}

/** The spec's one-word phase: pending, provisioning, active, stopped, error, deleting. */
export function podPhase(input: StatusInput): PodStatus {
  if (input.deleting) return 'deleting';
  if (input.terminal) return 'error';
  if (input.settled) return input.desiredPower === 'running' ? 'active' : 'stopped';
  // A pod that was up keeps its phase while it changes (a resize, a start), rather than looking new again.
  if (input.provisioned && (input.current === 'active' || input.current === 'stopped')) return input.current;
  return input.placed ? 'provisioning' : 'pending';
}
