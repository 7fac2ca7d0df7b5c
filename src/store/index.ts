export { type Store, type StoreOperation } from './store';
export { openStore } from './open';
export { openSqliteStore } from './sqlite';
export { openPostgresStore, type PostgresStoreOptions } from './postgres';
export { validateFeedback, type FeedbackItem, type FeedbackTextLimits } from './feedback';
export type { AuditRow, AuditOutcome } from './audit';
