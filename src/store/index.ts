export {
  openStore,
  DEFAULT_LIST_LIMIT,
  type Store,
  type StoreOptions,
  type StoredFeedback,
  type FeedbackFilter,
} from './store';
export { validateFeedback, type FeedbackItem, type FeedbackOutcome, type Coding } from './feedback';
export type { AuditRow, AuditOutcome, AuditFilter, StoredAuditRow } from './audit';
