export { runCommand, UsageError, USAGE } from './commands.js';
export { CommandFailure, formatImportAnswer } from './interop.js';
