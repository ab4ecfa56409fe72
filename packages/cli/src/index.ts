export { runCommand, UsageError, USAGE } from './commands.js';
export { CommandFailure, formatImportAnswer } from './interop.js';
export { formatLookupCsv, formatLookupTable, lookupCommand, type LookupIo } from './lookup.js';
