import { readFileSync } from 'node:fs';
import { stateDirectory } from '@renkei/runtime';
import { supervisorFiles } from './paths.js';
import { readState } from './state.js';
import { describeStatus, type Readiness } from './status.js';

/** `npm run status`: exit 0 when the supervisor runs and every service is ready, 3 otherwise. */
const files = supervisorFiles(stateDirectory());

function supervisorAlive(pid: number): boolean {
  try {
    const [recorded] = readFileSync(files.pidFile, 'utf8').split(' ');
    if (Number(recorded) !== pid) return false;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const state = readState(files.stateFile);
const alive = state ? supervisorAlive(state.pid) : false;
const readiness: Readiness = {};
if (state && alive) {
  await Promise.all(
    state.services.map(async (service) => {
      readiness[service.name] = service.readyUrl
        ? await fetch(service.readyUrl, { signal: AbortSignal.timeout(2_000) }).then(
            (response) => response.status,
            () => null,
          )
        : null;
    }),
  );
}
const { text, healthy } = describeStatus(state, alive, readiness, Date.now());
process.stdout.write(text + '\n');
process.exitCode = healthy ? 0 : 3;
