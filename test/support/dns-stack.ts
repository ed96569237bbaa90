import { startTestApp, type TestApp } from './app.ts';
import { startTestPowerDns, type TestPowerDns } from './powerdns.ts';
import { testDatabase, type TestDatabase } from './postgres.ts';

/** What the DNS suites share: a database, a real PowerDNS, and the app configured to use it. */
export interface DnsStack {
  database: TestDatabase;
  pdns: TestPowerDns;
  app: TestApp;
  /** Stops the app, then PowerDNS, then drops the database. */
  stop(): Promise<void>;
}

export async function startDnsStack({ logLevel = 'warn' }: { logLevel?: string } = {}): Promise<DnsStack> {
  const database = await testDatabase();
  const pdns = await startTestPowerDns();
  const app = await startTestApp({ databaseUrl: database.url, overrides: pdns.overrides, logLevel });
  return {
    database, pdns, app,
    async stop() {
      await app.stop();
      await pdns.close();
      await database.drop();
    },
  };
}
