export { runCommand, UsageError, USAGE } from './commands.js';
export { CommandFailure, formatImportAnswer } from './interop.js';
export { formatLookupTable, lookupCommand, type LookupIo } from './lookup.js';
