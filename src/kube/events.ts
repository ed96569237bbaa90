import type { Logger } from '../observability/logger.ts';
import type { KubeClient } from './client.ts';
import type { KubeObject } from './resource.ts';

/** Kubernetes Events (events.k8s.io/v1) about our resources: Normal for transitions, Warning for errors. */
export interface EventRecorder {
  record(regarding: KubeObject, type: 'Normal' | 'Warning', reason: string, action: string, note: string): Promise<void>;
}

/** MicroTime, as Events want it: RFC 3339 with microseconds. */
const microTime = (date = new Date()) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export function createEventRecorder(client: KubeClient, instance: string, logger: Logger): EventRecorder {
  return {
    async record(regarding, type, reason, action, note) {
      const namespace = regarding.metadata.namespace;
      try {
        await client.request('POST', `/apis/events.k8s.io/v1/namespaces/${namespace}/events`, {
          apiVersion: 'events.k8s.io/v1', kind: 'Event',
          metadata: { generateName: `${regarding.metadata.name}.`, namespace },
          eventTime: microTime(), type, reason, action, note: note.slice(0, 1024),
          reportingController: 'cloudpods.mpanel.io/bridge', reportingInstance: instance,
          regarding: { apiVersion: regarding.apiVersion, kind: regarding.kind, name: regarding.metadata.name, namespace,
            uid: regarding.metadata.uid, resourceVersion: regarding.metadata.resourceVersion },
        });
      } catch (error) {
        // Events are informative only: losing one must not stop the bridge.
        logger.debug({ err: error, reason }, 'could not record a Kubernetes event');
      }
    },
  };
}
