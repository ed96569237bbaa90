/**
 * Lifecycle events and their fan-out belong to the hooks (src/hooks/events.ts, src/hooks/fan-out.ts). This
 * re-export keeps the pod controller's imports working until it imports src/hooks/events.ts itself.
 */
export { publishLifecycleEvent, type LifecycleEvent } from '../hooks/events.ts';
