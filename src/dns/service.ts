import type { Kysely } from 'kysely';
import type { Database, DnsRecordOrigin, DnsRecordRow, DnsRecordType } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { recordAddress } from './addresses.ts';
import { enqueueDnsReconciles, type Enqueuer } from './enqueue.ts';
import { isWithinZone, parseHostname } from './names.ts';
import { findRecord, insertRecords, markForDeletion, nameClaimedByOthers, nameTakenMessage, updateSpec }
  from './records.ts';

export interface RecordOptions {
  tenantId: string;
  podId?: string | null;
  ttl?: number;
  ptr?: boolean;
  origin?: DnsRecordOrigin;
  /** A transaction to write in; by default the service opens one. */
  trx?: Kysely<Database>;
}

/** A request the DNS service cannot accept as written (bad name, wrong family, name taken). */
export class DnsRequestError extends AppError {
  constructor(status: 400 | 409, code: string, message: string, details?: Record<string, unknown>) {
    super(status, code, message, details);
  }
}

/**
 * Spec 8's DnsService: the calls write desired state (a row) and enqueue its reconcile in one transaction;
 * the dns-record controller makes PowerDNS serve it and reports status on the row.
 */
export class DnsService {
  readonly #db: Kysely<Database>;
  readonly #engine: Enqueuer;

  constructor(db: Kysely<Database>, engine: Enqueuer) {
    this.#db = db;
    this.#engine = engine;
  }

  createARecord(zone: string, host: string, ip: string, options: RecordOptions): Promise<DnsRecordRow> {
    return this.#create('A', zone, host, ip, options);
  }

  createAAAARecord(zone: string, host: string, ip: string, options: RecordOptions): Promise<DnsRecordRow> {
    return this.#create('AAAA', zone, host, ip, options);
  }

  /** Turns the PTR record of a row's address on or off (in the address's reverse zone, when PowerDNS has it). */
  async setPtr(id: string, enabled: boolean, trx?: Kysely<Database>): Promise<boolean> {
    return this.#inTransaction(trx, async (db) => {
      const changed = await updateSpec(db, id, { ptr: enabled });
      if (changed) await enqueueDnsReconciles(this.#engine, db, [id]);
      return changed;
    });
  }

  /** Asks for the record's removal; true when it existed. The row goes once PowerDNS no longer serves it. */
  async deleteRecord(id: string, trx?: Kysely<Database>): Promise<boolean> {
    return this.#inTransaction(trx, async (db) => {
      const row = await findRecord(db, id);
      if (!row) return false;
      await markForDeletion(db, [id]);
      await enqueueDnsReconciles(this.#engine, db, [id]);
      return true;
    });
  }

  async #create(type: DnsRecordType, zone: string, host: string, ip: string, options: RecordOptions): Promise<DnsRecordRow> {
    const zoneName = parseHostname(zone);
    const hostname = parseHostname(host);
    const address = recordAddress(ip);
    const problems: Record<string, string> = {};
    if ('problem' in zoneName) problems.zone = zoneName.problem;
    if ('problem' in hostname) problems.hostname = hostname.problem;
    else if (!('problem' in zoneName) && !isWithinZone(hostname.name, zoneName.name)) {
      problems.hostname = `must be ${zoneName.name} or a name inside it`;
    }
    if (!address || address.type !== type) problems.ip = `expected an IPv${type === 'A' ? 4 : 6} address`;
    if (Object.keys(problems).length > 0 || 'problem' in zoneName || 'problem' in hostname || !address) {
      throw new DnsRequestError(400, 'validation_error', 'invalid DNS record', { problems });
    }
    return this.#inTransaction(options.trx, async (db) => {
      if (await nameClaimedByOthers(db, hostname.name, options.tenantId)) {
        throw new DnsRequestError(409, 'conflict', nameTakenMessage(hostname.name));
      }
      const [row] = await insertRecords(db, [{
        tenant_id: options.tenantId, pod_id: options.podId ?? null, zone_name: zoneName.name, hostname: hostname.name,
        ip_address: address.ip, type, origin: options.origin ?? 'api',
        ...(options.ttl !== undefined ? { ttl: options.ttl } : {}), ...(options.ptr !== undefined ? { ptr: options.ptr } : {}),
      }]);
      await enqueueDnsReconciles(this.#engine, db, [row!.id]);
      return row!;
    });
  }

  #inTransaction<T>(trx: Kysely<Database> | undefined, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    return trx ? work(trx) : this.#db.transaction().execute(work);
  }
}
