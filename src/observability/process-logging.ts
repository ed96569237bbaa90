import { SystemEventSink } from './event-sink.ts';
import { createLogger, maskSecretsInText, type Logger } from './logger.ts';

export interface ProcessLogging {
  logger: Logger;
  /** Pass to `startSystem`, which attaches it to the database. */
  events: SystemEventSink;
}

/** The `service` of the process's own lines (start, stop, migrations); its components log under their own names. */
const processService = 'cloudpods';

/** The logger of a long-running command: standard output, plus its events stored in system_events. */
export function createProcessLogging(level: string): ProcessLogging {
  // The sink cannot report its own failures through the logger it feeds: they go to stderr, rarely (backoff).
  const events = new SystemEventSink({
    onWriteError: (error) => process.stderr.write(
      `${JSON.stringify({ level: 'warn', service: processService, msg: `system_events: ${maskSecretsInText(error.message)}` })}\n`),
  });
  return { logger: createLogger({ level, service: processService, eventSink: events }), events };
}
