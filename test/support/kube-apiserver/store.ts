import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { jsonPatch, mergePatch, PatchError, type Json } from './patch.ts';
import { typeKey, type ResourceType } from './resources.ts';
import { pruneAndDefault, validate, type Cause } from './schema.ts';
import { fieldsOf, matchesRequirements, type Requirement } from './selectors.ts';

/** An apiserver error, rendered as a `Status` body. */
export class StatusError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: Record<string, unknown>;
  constructor(code: number, reason: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
  toStatus() {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason,
      details: this.details, code: this.code };
  }
}

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';
interface LogEntry { rv: number; key: string; type: WatchType; object: any; old: any }

export interface Filter {
  namespace?: string;
  labels: Requirement[];
  fields: Requirement[];
}

export interface Watcher {
  key: string;
  filter: Filter;
  send(type: WatchType, object: any): void;
}

const matches = (object: any, filter: Filter) => object
  && (!filter.namespace || object.metadata.namespace === filter.namespace)
  && matchesRequirements(object.metadata.labels ?? {}, filter.labels)
  && matchesRequirements(fieldsOf(object), filter.fields);

/** What the apiserver compares to decide that a write changed the spec (everything but metadata and status). */
const specOf = (object: any) => Object.fromEntries(Object.entries(object)
  .filter(([key]) => !['metadata', 'status', 'apiVersion', 'kind'].includes(key)));

const qualified = (type: ResourceType) => (type.group ? `${type.plural}.${type.group}` : type.plural);

/**
 * The fake's storage: one global resourceVersion counter, a bounded event log (older history is compacted, giving
 * 410 to watches and continue tokens from before it), and the write semantics of the real apiserver.
 */
export class Store {
  private rv = 1;
  private compactedRv = 0;
  private log: LogEntry[] = [];
  private readonly objects = new Map<string, Map<string, any>>();
  readonly watchers = new Set<Watcher>();
  logLimit = 1000;

  get resourceVersion(): string { return String(this.rv); }

  private bucket(type: ResourceType): Map<string, any> {
    let bucket = this.objects.get(typeKey(type));
    if (!bucket) this.objects.set(typeKey(type), bucket = new Map());
    return bucket;
  }

  private notFound(type: ResourceType, name: string): StatusError {
    return new StatusError(404, 'NotFound', `${qualified(type)} "${name}" not found`,
      { name, group: type.group, kind: type.plural });
  }

  private invalid(type: ResourceType, name: string, causes: Cause[]): StatusError {
    return new StatusError(422, 'Invalid', `${type.kind}${type.group ? `.${type.group}` : ''} "${name}" is invalid: ${
      causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, { name, group: type.group, kind: type.kind, causes });
  }

  private commit(type: ResourceType, event: WatchType, object: any, old: any): any {
    this.rv++;
    object.metadata.resourceVersion = String(this.rv);
    const key = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    if (event === 'DELETED') this.bucket(type).delete(key);
    else this.bucket(type).set(key, object);
    const entry: LogEntry = { rv: this.rv, key: typeKey(type), type: event, object: structuredClone(object), old };
    this.log.push(entry);
    if (this.log.length > this.logLimit) {
      const dropped = this.log.splice(0, this.log.length - this.logLimit);
      this.compactedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const watcher of this.watchers) if (watcher.key === entry.key) this.deliver(watcher, entry);
    return structuredClone(object);
  }

  /** A watch sees an object leave its selector as DELETED and enter it as ADDED, as the watch cache does. */
  private deliver(watcher: Watcher, entry: LogEntry): void {
    const now = matches(entry.object, watcher.filter);
    const before = entry.old ? matches(entry.old, watcher.filter) : false;
    if (entry.type === 'ADDED' && now) watcher.send('ADDED', entry.object);
    else if (entry.type === 'DELETED' && (now || before)) watcher.send('DELETED', entry.object);
    else if (entry.type === 'MODIFIED') {
      if (now && before) watcher.send('MODIFIED', entry.object);
      else if (now) watcher.send('ADDED', entry.object);
      else if (before) watcher.send('DELETED', entry.object);
    }
  }

  /** Forgets all history: every watch or continue token from before now gets 410 Gone. */
  compact(): void {
    this.log = [];
    this.compactedRv = this.rv;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): any {
    const object = this.bucket(type).get(`${namespace ?? ''}/${name}`);
    if (!object) throw this.notFound(type, name);
    return structuredClone(object);
  }

  list(type: ResourceType, filter: Filter, page: { limit?: number; continue?: string } = {}) {
    let start = '';
    let listRv = this.rv;
    if (page.continue) {
      const token = JSON.parse(Buffer.from(page.continue, 'base64url').toString()) as { rv: number; after: string };
      if (token.rv <= this.compactedRv) {
        throw new StatusError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      start = token.after;
      listRv = token.rv;
    }
    const all = [...this.bucket(type).entries()].filter(([key, object]) => key > start && matches(object, filter))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const items = page.limit ? all.slice(0, page.limit) : all;
    const more = page.limit !== undefined && all.length > page.limit;
    const metadata: Record<string, unknown> = { resourceVersion: String(listRv) };
    if (more) {
      metadata.continue = Buffer.from(JSON.stringify({ rv: listRv, after: items[items.length - 1]![0] })).toString('base64url');
      metadata.remainingItemCount = all.length - items.length;
    }
    return { metadata, items: items.map(([, object]) => structuredClone(object)) };
  }

  create(type: ResourceType, namespace: string | undefined, body: any): any {
    if (!body || typeof body !== 'object' || !body.metadata) throw new StatusError(400, 'BadRequest', 'the body must be an object with metadata');
    const object = structuredClone(body);
    const metadata = object.metadata;
    if (!metadata.name && metadata.generateName) metadata.name = `${metadata.generateName}${randomBytes(4).toString('hex').slice(0, 5)}`;
    if (!metadata.name) throw this.invalid(type, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    if (type.namespaced) {
      if (metadata.namespace && metadata.namespace !== namespace) {
        throw new StatusError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      }
      metadata.namespace = namespace;
      if (!this.bucket(builtinNamespaces).has(`/${namespace}`)) {
        throw new StatusError(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
      }
    }
    if (this.bucket(type).has(`${metadata.namespace ?? ''}/${metadata.name}`)) {
      throw new StatusError(409, 'AlreadyExists', `${qualified(type)} "${metadata.name}" already exists`,
        { name: metadata.name, group: type.group, kind: type.plural });
    }
    Object.assign(metadata, { uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
    delete metadata.resourceVersion;
    delete metadata.deletionTimestamp;
    if (type.custom) {
      metadata.generation = 1;
      if (type.statusSubresource) delete object.status;
      this.check(type, object, undefined);
    }
    return this.commit(type, 'ADDED', object, undefined);
  }

  /** `fieldValidation=Strict` on the request in progress: unknown fields are refused, not pruned (kubectl's default). */
  strict = false;

  private check(type: ResourceType, object: any, old: any): void {
    if (!type.schema) return;
    const pruned: string[] = [];
    pruneAndDefault(object, type.schema, pruned);
    if (this.strict && pruned.length) {
      throw new StatusError(400, 'BadRequest', `strict decoding error: ${pruned.map((f) => `unknown field "${f}"`).join(', ')}`);
    }
    const causes = validate(object, type.schema, '', old).map((c) => ({ ...c, field: c.field.replace(/^\./, '') }));
    if (causes.length) throw this.invalid(type, object.metadata.name, causes);
  }

  /** PUT of the object or of its status subresource. */
  update(type: ResourceType, namespace: string | undefined, name: string, body: any, subresource?: 'status'): any {
    const old = this.get(type, namespace, name);
    const given = body?.metadata?.resourceVersion;
    if (given === undefined && type.custom) {
      throw this.invalid(type, name, [{ reason: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    }
    if (given !== undefined && given !== old.metadata.resourceVersion) {
      throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: type.group, kind: type.plural });
    }
    if (body.metadata.name !== undefined && body.metadata.name !== name) {
      throw new StatusError(400, 'BadRequest', `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    let next: any;
    if (subresource === 'status') {
      next = structuredClone(old);
      if (body.status === undefined) delete next.status;
      else next.status = structuredClone(body.status);
    } else {
      next = structuredClone(body);
      const keep = ['name', 'namespace', 'uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds'];
      for (const field of keep) {
        if (old.metadata[field] === undefined) delete next.metadata[field];
        else next.metadata[field] = old.metadata[field];
      }
      if (type.statusSubresource) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
      if (old.metadata.deletionTimestamp) {
        const added = (next.metadata.finalizers ?? []).filter((f: string) => !(old.metadata.finalizers ?? []).includes(f));
        if (added.length) {
          throw this.invalid(type, name, [{ reason: 'FieldValueForbidden', field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` }]);
        }
      }
    }
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    if (type.custom) this.check(type, next, old);
    if (next.metadata.finalizers?.length === 0) delete next.metadata.finalizers;
    if (type.custom && !isDeepStrictEqual(specOf(next), specOf(old))) next.metadata.generation = old.metadata.generation + 1;
    if (isDeepStrictEqual(next, old)) return old; // a no-op write keeps the resourceVersion and tells no watcher
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) return this.commit(type, 'DELETED', next, old);
    return this.commit(type, 'MODIFIED', next, old);
  }

  patch(type: ResourceType, namespace: string | undefined, name: string, contentType: string, patch: unknown,
    subresource?: 'status'): any {
    const old = this.get(type, namespace, name);
    let patched: any;
    try {
      if (contentType.startsWith('application/merge-patch+json')) patched = mergePatch(old, patch as Json);
      else if (contentType.startsWith('application/json-patch+json')) patched = jsonPatch(old, patch as never);
      else if (contentType.startsWith('application/strategic-merge-patch+json') && !type.custom) patched = mergePatch(old, patch as Json);
      else throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    } catch (error) {
      if (error instanceof PatchError) throw new StatusError(error.status, error.status === 409 ? 'Conflict' : 'Invalid', error.message);
      throw error;
    }
    // A resourceVersion in the patch is a precondition; without one the patch applies to whatever is current.
    if (patched?.metadata?.resourceVersion === undefined) patched.metadata = { ...patched.metadata, resourceVersion: old.metadata.resourceVersion };
    return this.update(type, namespace, name, patched, subresource);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, preconditions: { resourceVersion?: string; uid?: string } = {}): any {
    const old = this.get(type, namespace, name);
    if (preconditions.resourceVersion && preconditions.resourceVersion !== old.metadata.resourceVersion) {
      throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    if (preconditions.uid && preconditions.uid !== old.metadata.uid) {
      throw new StatusError(409, 'Conflict', `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (old.metadata.finalizers?.length) {
      if (old.metadata.deletionTimestamp) return old;
      const next = structuredClone(old);
      next.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      next.metadata.deletionGracePeriodSeconds = 0;
      if (type.custom) next.metadata.generation = old.metadata.generation + 1;
      return this.commit(type, 'MODIFIED', next, old);
    }
    return this.commit(type, 'DELETED', structuredClone(old), old);
  }

  /**
   * Starts a watch: replays history after `from` (410 when it is older than the log), or with no version (or "0")
   * sends the current state as ADDED first. Returns the function that stops it.
   */
  watch(type: ResourceType, filter: Filter, from: string | undefined, send: Watcher['send']): () => void {
    const watcher: Watcher = { key: typeKey(type), filter, send };
    if (from === undefined || from === '' || from === '0') {
      for (const object of this.list(type, filter).items) send('ADDED', object);
    } else {
      const rv = Number(from);
      if (!Number.isInteger(rv)) throw new StatusError(400, 'BadRequest', `invalid resource version: ${from}`);
      if (rv < this.compactedRv) throw new StatusError(410, 'Expired', `too old resource version: ${rv} (${this.compactedRv + 1})`);
      for (const entry of this.log) if (entry.rv > rv && entry.key === watcher.key) this.deliver(watcher, entry);
    }
    this.watchers.add(watcher);
    return () => { this.watchers.delete(watcher); };
  }
}

/** Namespaces live in the store like any resource; creation elsewhere checks them. */
const builtinNamespaces = { group: '', plural: 'namespaces' } as ResourceType;
