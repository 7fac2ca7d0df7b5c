/**
 * Opens the configured store: PostgreSQL when the location is a postgres:// URL (DATABASE_URL),
 * otherwise the SQLite file (FEEDBACK_DB, the embedded default).
 */
import { openPostgresStore, type PostgresStoreOptions } from './postgres';
import { openSqliteStore } from './sqlite';
import { isPostgresUrl, type Store } from './store';

export async function openStore(location: string, options: PostgresStoreOptions = {}): Promise<Store> {
  return isPostgresUrl(location) ? openPostgresStore(location, options) : openSqliteStore(location, options);
}
