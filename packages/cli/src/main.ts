#!/usr/bin/env -S npx tsx
import { ConfigError } from '@renkei/schema';
import { runCommand, UsageError } from './commands.js';
import { CannotVerify } from './audit.js';
import { CommandFailure } from './interop.js';
import { Refused } from './backup.js';

try {
  process.stdout.write((await runCommand(process.argv.slice(2), process.env)) + '\n');
} catch (error) {
  if (error instanceof UsageError || error instanceof ConfigError) {
    process.stderr.write(`renkei: ${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof CannotVerify) {
    // Neither intact (0) nor broken (1): a check that did not run must not read as either.
    process.stderr.write(`renkei: ${error.message}\n`);
    process.exitCode = 3;
  } else if (error instanceof CommandFailure) {
    process.stderr.write(`renkei: ${error.message}\n`);
    // A refusal that changed nothing (a database that is not empty) has a code of its own.
    process.exitCode = error instanceof Refused ? error.exitCode : 1;
  } else if (
    (error as { code?: string }).code === 'ECONNREFUSED' ||
    (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED'
  ) {
    process.stderr.write(`renkei: ${(error as Error).message}: is the server running?\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`renkei: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  }
}
