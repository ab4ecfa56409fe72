import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../../src/config.js';
import { normaliseOrigin } from '@renkei/http';
import { createOriginPolicy } from '../../src/origins.js';

describe('the origin allow-list of the stream', () => {
  it('lets through clients that send no Origin, and by default no browser page at all', () => {
    const policy = createOriginPolicy();
    expect(policy.isAllowed(undefined)).toBe(true);
    expect(policy.isAllowed('https://evil.example')).toBe(false);
    expect(policy.isAllowed('null')).toBe(false);
    expect(policy.isAllowed('')).toBe(false);
  });

  it('allows the gateway’s own origin, under each loopback name when it listens locally', () => {
    const policy = createOriginPolicy();
    policy.allowOwn('http://127.0.0.1:7401');
    expect(policy.isAllowed('http://127.0.0.1:7401')).toBe(true);
    expect(policy.isAllowed('http://localhost:7401')).toBe(true);
    expect(policy.isAllowed('http://[::1]:7401')).toBe(true);
    expect(policy.isAllowed('http://localhost:7402')).toBe(false);
    expect(policy.isAllowed('https://localhost:7401')).toBe(false);
    expect(policy.isAllowed('http://127.0.0.1.evil.example:7401')).toBe(false);
  });

  it('cannot guess an origin for a wildcard address: the operator names it', () => {
    const policy = createOriginPolicy();
    policy.allowOwn('http://0.0.0.0:7401');
    expect(policy.list()).toEqual([]);
  });

  it('compares origins as browsers write them: case, default ports and paths do not matter', () => {
    const policy = createOriginPolicy(['https://Console.Example:443/app', 'http://soc.example:8080']);
    expect(policy.isAllowed('https://console.example')).toBe(true);
    expect(policy.isAllowed('http://soc.example:8080')).toBe(true);
    expect(policy.isAllowed('http://soc.example')).toBe(false);
    expect(policy.isAllowed('https://console.example.evil.example')).toBe(false);
    expect(normaliseOrigin('ftp://x.example')).toBeNull();
  });

  it('reads the origins and the public URL from the environment, refusing what is not an origin', () => {
    const config = loadGatewayConfig({
      GATEWAY_ALLOWED_ORIGINS: 'https://console.example, http://localhost:5173',
      GATEWAY_PUBLIC_URL: 'https://renkei.example',
    });
    expect(config.GATEWAY_ALLOWED_ORIGINS).toEqual(['https://console.example', 'http://localhost:5173']);
    expect(config.GATEWAY_PUBLIC_URL).toBe('https://renkei.example');
    expect(loadGatewayConfig({}).GATEWAY_ALLOWED_ORIGINS).toEqual([]);
    expect(() => loadGatewayConfig({ GATEWAY_ALLOWED_ORIGINS: 'console.example' })).toThrow(
      /GATEWAY_ALLOWED_ORIGINS/,
    );
    expect(() => loadGatewayConfig({ GATEWAY_ACCESS_RECHECK_MS: '60000' })).toThrow(
      /GATEWAY_ACCESS_RECHECK_MS/,
    );
  });
});
