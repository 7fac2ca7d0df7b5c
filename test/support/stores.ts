/**
 * The two store implementations for one behaviour suite: SQLite (a temp file) and PostgreSQL (the real
 * server at TEST_DATABASE_URL, default postgres://127.0.0.1:5432/test). Each PostgreSQL store of a test
 * file lives in its own schema (unique per run and file), dropped afterwards, so parallel runs never
 * collide. When the server is down the PostgreSQL tests fail (openStore rejects): they never skip.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { openPostgresStore, openSqliteStore, type PostgresStoreOptions, type Store } from '../../src/store';
import Database from 'better-sqlite3';
import { withDefaultUser } from '../../src/store/postgres';
import { keepForProcessLifetime } from '../../src/store/sqlite';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://127.0.0.1:5432/test';

/** A schema name unique to this run (pid, time, random). */
export const uniqueSchema = (label = 't'): string =>
  `${label}_${process.pid}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`.toLowerCase();

export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  /** Opens a store on this test's database (several calls = several instances on one database). */
  open(options?: PostgresStoreOptions): Promise<Store>;
  /** The location (file or URL) and schema, for openStore / compose. */
  location(): { url: string; schema?: string };
  /** Closes every store opened and removes the database (file or schema). */
  cleanup(): Promise<void>;
}

export function sqliteBackend(): StoreBackend {
  let dir: string | undefined;
  const opened: Store[] = [];
  const file = () => path.join((dir ??= mkdtempSync(path.join(tmpdir(), 'ketamine-store-'))), 'cds.sqlite');
  return {
    name: 'sqlite',
    async open(options = {}) {
      const store = openSqliteStore(file(), options);
      opened.push(store);
      return store;
    },
    location: () => ({ url: file() }),
    async cleanup() {
      await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}

export function postgresBackend(): StoreBackend {
  let schema: string | undefined;
  const opened: Store[] = [];
  return {
    name: 'postgres',
    async open(options = {}) {
      const store = await openPostgresStore(TEST_DATABASE_URL, { ...options, schema: (schema ??= uniqueSchema()) });
      opened.push(store);
      return store;
    },
    location: () => ({ url: TEST_DATABASE_URL, schema: (schema ??= uniqueSchema()) }),
    async cleanup() {
      await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
      if (schema) await dropSchema(schema);
      schema = undefined;
    },
  };
}

export const BACKENDS: Array<[string, () => StoreBackend]> = [
  ['SQLite', sqliteBackend],
  ['PostgreSQL', postgresBackend],
];

export async function dropSchema(schema: string): Promise<void> {
  const client = new Client({ connectionString: withDefaultUser(TEST_DATABASE_URL) });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs one SQL statement on the test database (outside any store). */
export async function sql<T extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: withDefaultUser(TEST_DATABASE_URL) });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * A raw SQLite connection for inspecting a store's file. Its connection and statements are never
 * garbage-collected (better-sqlite3 12 can abort Node 24 when they are: see src/store/sqlite.ts).
 */
export function rawSqlite(file: string, options: { readonly?: boolean } = {}) {
  const db = new Database(file, options);
  keepForProcessLifetime(db);
  const prepare = (text: string) => {
    const statement = db.prepare(text);
    keepForProcessLifetime(statement);
    return statement;
  };
  return {
    pragma: (name: string): unknown => prepare(`PRAGMA ${name}`).pluck().get(),
    exec: (text: string) => void db.exec(text),
    run: (text: string) => void prepare(text).run(),
    close: () => db.close(),
  };
}
