import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

const secretKeys = [
  'authorization', 'cookie', 'set-cookie', 'password', 'passphrase', 'token', 'secret', 'apiKey', 'api_key',
  'apiToken', 'privateKey', 'private_key', 'databaseUrl', 'database_url', 'connectionString', 'adminToken',
  'tenantToken', 'x-api-key', 'signing_secret', 'signingSecret',
];

/**
 * Paths pino replaces with "[redacted]": each secret key at the top level and up to three levels down,
 * which covers `req.headers.authorization` and `config.database.password` alike.
 */
export const redactedPaths: string[] = secretKeys.flatMap((key) => {
  const prop = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const join = (prefix: string) => (prop.startsWith('[') ? `${prefix}${prop}` : `${prefix}.${prop}`);
  return [prop.startsWith('[') ? prop.slice(2, -2) : prop, join('*'), join('*.*'), join('*.*.*')];
}).concat(['config.database.url', 'database.url']);

/** Secrets that can hide inside free text (messages, error strings); masked on the way out as a last line. */
const secretPatterns: Array<[RegExp, string]> = [
  [/\bcpk_[A-Za-z0-9_-]{8,}/g, 'cpk_[redacted]'],
  [/\bwhsec_[A-Za-z0-9+/=]{8,}/g, 'whsec_[redacted]'],
  [/(PVEAPIToken=[^=\s"]+=)[^\s",]+/g, '$1[redacted]'],
  [/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1[redacted]'],
  [/(\/\/[^/:@\s"]+:)[^@/\s"]+@/g, '$1[redacted]@'],
  [/(-----BEGIN [A-Z ]*PRIVATE KEY-----)[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----)/g, '$1[redacted]$2'],
];

export function maskSecretsInText(text: string): string {
  return secretPatterns.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

export interface LoggerSettings {
  level: string;
  /**
   * The `service` of lines no component logger wrote (the process's own: start, stop, migrations); default
   * "cloudpods". Components name themselves with `componentLogger`.
   */
  service?: string;
  /** Where lines go; standard output by default. */
  destination?: DestinationStream;
  /** Also receives every info, warn and error line (already redacted): the system_events sink, which keeps events. */
  eventSink?: DestinationStream;
}

/**
 * The `service` field is written by the log formatter rather than bound, so a component logger made from another
 * one replaces it (a bound field would appear twice in the line) and every line carries exactly one.
 */
const serviceFormatter = (service: string) => (object: object) => ({ service, ...object });

/**
 * JSON logs with secrets redacted by key and by pattern. Info lines that are events for the admin (start and stop,
 * leadership, migrations, settings changes, heals) say so with `event: true`: the system_events sink keeps those
 * (bounded per minute) besides every warn and error line.
 */
export function createLogger({ level, service = 'cloudpods', destination, eventSink }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level,
    base: {},
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }), log: serviceFormatter(service) },
    hooks: { streamWrite: maskSecretsInText },
  };
  const output = destination ?? pino.destination(1);
  if (!eventSink || level === 'silent') return pino(options, output);
  // Events reach the sink whatever the output's level: a quieter stdout does not empty the health page.
  const loggerLevel = pino.levels.values[level]! > pino.levels.values.info! ? 'info' : level;
  return pino({ ...options, level: loggerLevel }, pino.multistream([{ level: level as pino.Level, stream: output },
    { level: 'info', stream: eventSink }]));
}

/**
 * The logger of one component (api, a worker queue, a controller, the kube bridge, the scheduler): its lines carry
 * `service: <component>`, which system_events stores and the health page filters by.
 */
export function componentLogger(logger: Logger, component: string): Logger {
  return logger.child({}, { formatters: { log: serviceFormatter(component) } });
}
