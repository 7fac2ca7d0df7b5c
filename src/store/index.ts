export {
  DEFAULT_LIST_LIMIT,
  isPostgresUrl,
  type Store,
  type StoreKind,
  type StoreOperation,
  type StoreOptions,
  type StoredFeedback,
  type FeedbackFilter,
} from './store';
export { openStore } from './open';
export { openSqliteStore } from './sqlite';
export { openPostgresStore, type PostgresStoreOptions } from './postgres';
export { validateFeedback, type FeedbackItem, type FeedbackOutcome, type Coding } from './feedback';
export type { AuditRow, AuditOutcome, AuditFilter, AuditCard, StoredAuditRow } from './audit';
