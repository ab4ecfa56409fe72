import path from 'node:path';

/** Where the supervisor of a local hub keeps its files, inside the hub's state directory. */
export function supervisorFiles(stateDir: string) {
  const runDir = path.join(stateDir, 'run');
  return {
    runDir,
    logDir: path.join(stateDir, 'logs'),
    stateFile: path.join(runDir, 'supervisor.json'),
    pidFile: path.join(runDir, 'supervisor.pid'),
  };
}
