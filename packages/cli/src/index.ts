export { runCommand, UsageError, USAGE } from './commands.js';
export { CommandFailure, formatImportAnswer } from './interop.js';
export { formatLookupTable, lookupCommand, type LookupIo } from './lookup.js';
export { AuditChainFailure, CannotVerify, formatVerification } from './audit.js';
export { backupCommand, Refused } from './backup.js';
export { restoreCommand } from './restore.js';
export { feedCommand, formatFeeds, type FeedIo } from './feed.js';
