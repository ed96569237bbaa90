import { healthReasons } from './reasons.ts';

/** The repairs auto-heal makes, least invasive first. */
export type HealAction = 'start' | 'resume' | 'reboot' | 'reset';

/**
 * Pure: the least invasive action that fits the failure, one per heal. A guest that does not answer is rebooted
 * cleanly first; if the previous heal of the hour was that reboot and the pod still fails, it is reset. Failures
 * no action fits (an offline node, a VM gone) are not healed here.
 */
export function chooseHeal(reason: string, lastHeal: HealAction | null): HealAction | null {
  switch (reason) {
    case healthReasons.vmStopped: return 'start';
    case healthReasons.vmPaused: return 'resume';
    case healthReasons.guestAgentUnresponsive:
    case healthReasons.probeFailed:
      return lastHeal === 'reboot' || lastHeal === 'reset' ? 'reset' : 'reboot';
    default: return null;
  }
}

export interface HealCandidate {
  id: string;
  reason: string;
  failures: number;
  /** Heals of the pod within the last hour, newest first. */
  healsLastHour: HealAction[];
}

export interface HealBounds {
  threshold: number;
  maxPerPodPerHour: number;
  /** Heals the fleet may still start now (the bound less those in flight). */
  fleetRoom: number;
}

export type HealDecision =
  | { id: string; kind: 'heal'; action: HealAction }
  | { id: string; kind: 'give-up'; heals: number }
  /** Past the threshold, but the fleet's bound is reached: tried again at the next cycle. */
  | { id: string; kind: 'deferred'; action: HealAction };

/**
 * Pure: what auto-heal does this cycle for the pods whose consecutive failures reached the threshold, in order
 * (the longest failing first): heal within the pod's hourly bound and the fleet's room, else give up on the pod.
 */
export function planHeals(candidates: readonly HealCandidate[], bounds: HealBounds): HealDecision[] {
  let room = bounds.fleetRoom;
  const decisions: HealDecision[] = [];
  for (const pod of [...candidates].sort((a, b) => b.failures - a.failures)) {
    if (pod.failures < bounds.threshold) continue;
    const action = chooseHeal(pod.reason, pod.healsLastHour[0] ?? null);
    if (action === null) continue;
    if (pod.healsLastHour.length >= bounds.maxPerPodPerHour) {
      decisions.push({ id: pod.id, kind: 'give-up', heals: pod.healsLastHour.length });
    } else if (room > 0) {
      room -= 1;
      decisions.push({ id: pod.id, kind: 'heal', action });
    } else {
      decisions.push({ id: pod.id, kind: 'deferred', action });
    }
  }
  return decisions;
}
