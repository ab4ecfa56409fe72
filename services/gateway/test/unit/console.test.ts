import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { keyFilesIn } from '@renkei/auth';
import type { Logger } from '@renkei/runtime';
import {
  contentSecurityPolicy,
  demoRolesFor,
  demoSignInRefusal,
  isLoopbackAddress,
  isLoopbackHost,
} from '../../src/routes/console.js';
import { devSigning } from '../../src/service.js';

describe("the console's content security policy", () => {
  const policy = contentSecurityPolicy('http://127.0.0.1:7400/');
  const directives = Object.fromEntries(
    policy.split('; ').map((directive) => {
      const [name, ...values] = directive.split(' ');
      return [name, values];
    }),
  );

  it('runs scripts from the page origin only: nothing inline, nothing evaluated', () => {
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).not.toContain('unsafe-eval');
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
  });

  it('lets the page reach the gateway, its stream and ingest', () => {
    expect(directives['connect-src']).toEqual(["'self'", 'http://127.0.0.1:7400']);
  });
});

describe('demo roles', () => {
  it('offer analyst to the GSOC only, and admin to nobody', () => {
    expect(demoRolesFor('gsoc')).toEqual(['analyst']);
    expect(demoRolesFor('ceptar')).toEqual(['ceptar']);
    expect(demoRolesFor('agency')).toEqual(['reporter']);
    expect(demoRolesFor('operator')).toEqual(['reporter']);
  });
});

describe('where demo sign-in may be offered', () => {
  it('is a loopback address only', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', 'LOCALHOST'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'hub.example'])
      expect(isLoopbackHost(host), host).toBe(false);
  });
});

describe('who demo sign-in answers', () => {
  it('takes the peer address as loopback only on 127.0.0.0/8 and ::1, however written', () => {
    for (const address of [
      '127.0.0.1',
      '127.255.0.9',
      '::1',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      '::FFFF:7f00:1',
    ])
      expect(isLoopbackAddress(address), address).toBe(true);
    for (const address of [
      undefined,
      '',
      '0.0.0.0',
      '::',
      '192.0.2.2',
      '10.0.0.5',
      '128.0.0.1',
      'fd00::2',
      'fe80::1',
      '::ffff:192.0.2.2',
      '::2',
      'localhost',
      '127.0.0.1.example',
    ])
      expect(isLoopbackAddress(address), String(address)).toBe(false);
  });

  const local = { remoteAddress: '127.0.0.1', headers: { host: '127.0.0.1:7401' } };
  it('answers a loopback peer that names a loopback host', () => {
    expect(demoSignInRefusal(local)).toBeNull();
    for (const host of ['localhost:7401', '[::1]:7401', '127.0.0.1', 'LOCALHOST'])
      expect(demoSignInRefusal({ ...local, headers: { host } }), host).toBeNull();
    expect(
      demoSignInRefusal({ ...local, headers: { host: 'localhost:7401', origin: 'http://127.0.0.1:7401' } }),
    ).toBeNull();
  });

  it('refuses any other peer, whatever its headers say', () => {
    const refusal = demoSignInRefusal({
      remoteAddress: '192.0.2.2',
      headers: { host: '127.0.0.1:7401', 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1' },
    });
    expect(refusal).toMatch(/only requests from this machine/);
    expect(demoSignInRefusal({ remoteAddress: undefined, headers: local.headers })).toMatch(/this machine/);
  });

  it('refuses a loopback peer that relays for a proxy or was reached by a foreign name', () => {
    for (const header of ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'])
      expect(
        demoSignInRefusal({ ...local, headers: { ...local.headers, [header]: '192.0.2.9' } }),
        header,
      ).toMatch(/proxy/);
    for (const host of ['attacker.example', '192.0.2.2:7401', '', '127.0.0.1.attacker.example'])
      expect(demoSignInRefusal({ ...local, headers: { host } }), host).toMatch(/loopback address/);
    expect(demoSignInRefusal({ ...local, headers: {} })).toMatch(/loopback address/);
    for (const origin of ['http://attacker.example', 'null', 'not a url'])
      expect(demoSignInRefusal({ ...local, headers: { ...local.headers, origin } }), origin).toMatch(/pages/);
  });
});

describe('development mode at start', () => {
  it('is turned off, and says so, when the gateway listens beyond this machine', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'renkei-dev-mode-'));
    try {
      const jwks = path.join(directory, 'jwks.json');
      await writeFile(jwks, '{"keys":[]}');
      await writeFile(path.join(directory, path.basename(keyFilesIn('.').signingKey)), '{}');
      const lines: { level: number; msg: string }[] = [];
      const logger = pino(
        { level: 'info' },
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(JSON.parse(chunk.toString()));
            done();
          },
        }),
      ) as Logger;
      const config = { AUTH_JWKS_FILE: jwks, AUTH_ISSUER: 'renkei', AUTH_AUDIENCE: 'renkei-api' };
      for (const HOST of ['0.0.0.0', '::', '192.0.2.2', 'hub.example'])
        expect(devSigning({ ...config, HOST }, logger), HOST).toBeNull();
      expect(lines).toHaveLength(4);
      for (const line of lines) {
        expect(line.level).toBe(40);
        expect(line.msg).toMatch(/development mode is OFF because HOST is not a loopback address/);
      }
      lines.length = 0;
      expect(devSigning({ ...config, HOST: '127.0.0.1' }, logger)).toMatchObject({ issuer: 'renkei' });
      expect(lines.map((line) => line.msg)).toEqual([
        expect.stringMatching(/development mode is ON.*GATEWAY_DEV_MODE=false/),
      ]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
