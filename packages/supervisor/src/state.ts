import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

/** What the supervisor knows of one service; `npm run status` reads it. */
export const serviceStateSchema = z.object({
  name: z.string(),
  /** `running`: a process is up; `waiting`: it stopped and will be started again at `nextStartAt`. */
  state: z.enum(['starting', 'running', 'waiting', 'stopped']),
  pid: z.number().int().nullable(),
  /** When the current process started (ISO time); null while none runs. */
  startedAt: z.string().nullable(),
  /** Restarts since the supervisor started. */
  restarts: z.number().int().min(0),
  lastExit: z
    .object({ code: z.number().int().nullable(), signal: z.string().nullable(), at: z.string() })
    .nullable(),
  nextStartAt: z.string().nullable(),
  /** Where its readiness is asked (`http://host:port/readyz`). */
  readyUrl: z.string().nullable(),
  logFile: z.string(),
});
export type ServiceState = z.infer<typeof serviceStateSchema>;

export const supervisorStateSchema = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  services: z.array(serviceStateSchema),
});
export type SupervisorState = z.infer<typeof supervisorStateSchema>;

/** Written under a temporary name and renamed, so a reader never sees half a file. */
export function writeState(file: string, state: SupervisorState): void {
  const temporary = `${file}.${randomUUID()}.tmp`;
  writeFileSync(temporary, JSON.stringify(state, null, 2) + '\n');
  renameSync(temporary, file);
}

export function readState(file: string): SupervisorState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const parsed = supervisorStateSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : undefined;
}
