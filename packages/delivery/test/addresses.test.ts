import { describe, expect, it } from 'vitest';
import { isHostAllowed, judgeResolved, parseWebhookUrl, refusedAddress } from '../src/index.js';

describe('refusedAddress', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['100.64.0.1', 'shared'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['192.0.2.7', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::192.168.0.1', 'private'],
    ['2002:7f00:0001::1', 'loopback'],
    ['not-an-ip', 'not an IP address'],
  ])('%s is refused as %s', (address, refusal) => {
    expect(refusedAddress(address)).toBe(refusal);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '172.15.255.255',
    '100.128.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
  ])('%s is public', (address) => {
    expect(refusedAddress(address)).toBeNull();
  });

  it("refuses the hub's own public addresses, in any spelling", () => {
    expect(refusedAddress('203.0.114.9', ['203.0.114.9'])).toBe('the hub itself');
    expect(refusedAddress('::ffff:203.0.114.9', ['203.0.114.9'])).toBe('the hub itself');
    expect(refusedAddress('2606:4700:0::1', ['2606:4700::1'])).toBe('the hub itself');
    expect(refusedAddress('203.0.114.10', ['203.0.114.9'])).toBeNull();
  });
});

describe('parseWebhookUrl', () => {
  it('takes an https URL and keeps its path and query', () => {
    const parsed = parseWebhookUrl('https://Hooks.Example.org./in?x=1#frag');
    expect(parsed).toMatchObject({ ok: true });
    if (!parsed.ok) throw new Error('refused');
    expect(parsed.target.host).toBe('hooks.example.org');
    expect(parsed.target.url.toString()).toBe('https://hooks.example.org./in?x=1');
  });

  it.each([
    ['http://169.254.169.254/', 'must be an https:// URL'],
    ['ftp://example.org/', 'must be an https:// URL'],
    ['https://user:pw@example.org/', 'must not carry a user name or password'],
    ['not a url', 'is not a URL'],
  ])('refuses %s', (url, reason) => {
    expect(parseWebhookUrl(url)).toEqual({ ok: false, reason });
  });

  it('reads an IPv6 literal host without brackets', () => {
    const parsed = parseWebhookUrl('https://[::1]:8443/');
    expect(parsed.ok && parsed.target.host).toBe('::1');
  });
});

describe('judgeResolved', () => {
  it('takes the first address when every one is public', () => {
    expect(judgeResolved(['8.8.8.8', '2606:4700::1111'])).toEqual({ ok: true, address: '8.8.8.8' });
  });

  it('refuses a host with any non-public address among its answers', () => {
    expect(judgeResolved(['8.8.8.8', '10.0.0.5'])).toEqual({
      ok: false,
      reason: 'resolves to 10.0.0.5 (private)',
    });
  });

  it('refuses a host that resolves to nothing', () => {
    expect(judgeResolved([])).toEqual({ ok: false, reason: 'does not resolve to any address' });
  });
});

describe('isHostAllowed', () => {
  it('compares names exactly, case and trailing dot aside', () => {
    expect(isHostAllowed('LocalHost.', ['localhost'])).toBe(true);
    expect(isHostAllowed('127.0.0.1', ['localhost'])).toBe(false);
    expect(isHostAllowed('evil.localhost', ['localhost'])).toBe(false);
    expect(isHostAllowed('::1', ['[::1]'])).toBe(true);
    expect(isHostAllowed('example.org', [])).toBe(false);
  });
});
