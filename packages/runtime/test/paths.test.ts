import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT, stateDirectory } from '@renkei/runtime';

describe('REPOSITORY_ROOT', () => {
  it('is the workspace root', () => {
    expect(path.isAbsolute(REPOSITORY_ROOT)).toBe(true);
    expect(existsSync(path.join(REPOSITORY_ROOT, 'pnpm-workspace.yaml'))).toBe(true);
    expect(existsSync(path.join(REPOSITORY_ROOT, 'packages/runtime/src/paths.ts'))).toBe(true);
  });
});

describe('stateDirectory', () => {
  it('defaults to .renkei in the repository', () => {
    expect(stateDirectory({})).toBe(path.join(REPOSITORY_ROOT, '.renkei'));
  });

  it('ignores an empty RENKEI_STATE_DIR', () => {
    expect(stateDirectory({ RENKEI_STATE_DIR: '' })).toBe(path.join(REPOSITORY_ROOT, '.renkei'));
  });

  it('honours an absolute RENKEI_STATE_DIR', () => {
    expect(stateDirectory({ RENKEI_STATE_DIR: '/var/lib/renkei' })).toBe('/var/lib/renkei');
  });

  it('normalises RENKEI_STATE_DIR', () => {
    expect(stateDirectory({ RENKEI_STATE_DIR: '/var/lib/renkei/../hub/' })).toBe('/var/lib/hub');
  });

  it('resolves a relative RENKEI_STATE_DIR against the working directory', () => {
    expect(stateDirectory({ RENKEI_STATE_DIR: 'tmp/state' })).toBe(path.resolve(process.cwd(), 'tmp/state'));
  });

  it('reads process.env by default', () => {
    const saved = process.env.RENKEI_STATE_DIR;
    try {
      process.env.RENKEI_STATE_DIR = '/srv/renkei-state';
      expect(stateDirectory()).toBe('/srv/renkei-state');
    } finally {
      if (saved === undefined) delete process.env.RENKEI_STATE_DIR;
      else process.env.RENKEI_STATE_DIR = saved;
    }
  });
});
