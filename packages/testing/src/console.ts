import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPOSITORY_ROOT } from '@renkei/runtime';

/** The console's source; its build is `dist/` inside it. */
export const CONSOLE_DIR = path.join(REPOSITORY_ROOT, 'services', 'console');

/** Builds the console when there is no build yet (`npm test` builds it first; a run of one file does it here). */
export function buildConsoleIfMissing(): void {
  if (existsSync(path.join(CONSOLE_DIR, 'dist', 'index.html'))) return;
  execFileSync(path.join(REPOSITORY_ROOT, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
    cwd: CONSOLE_DIR,
    stdio: 'inherit',
  });
}
