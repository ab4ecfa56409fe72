import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, demoRolesFor, isLoopbackHost } from '../../src/routes/console.js';

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
  it('offer analyst and admin to the GSOC only', () => {
    expect(demoRolesFor('gsoc')).toEqual(['analyst', 'admin']);
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
