import { describe, expect, it } from 'vitest';
import {
  newWebhookSecret,
  retryDelayMs,
  nextAttemptAt,
  signWebhook,
  verifyWebhookSignature,
} from '../src/index.js';

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"deliveryId":"x","type":"test"}';

  it('verifies its own signature within the tolerance', () => {
    const header = signWebhook(secret, 1_800_000_000, body);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(secret, header, body, 1_800_000_100)).toEqual({
      ok: true,
      timestamp: 1_800_000_000,
    });
  });

  it('matches the HMAC-SHA256 of "timestamp.body" (a receiver can check it with any library)', () => {
    // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac k
    expect(signWebhook('k', 1_700_000_000, '{}')).toBe(
      't=1700000000,v1=c6ef4734033cee2367414a0939385eca0397754aa7a59716da7463a9298b5146',
    );
  });

  it('refuses another body, another secret, an old timestamp and a missing header', () => {
    const header = signWebhook(secret, 1_800_000_000, body);
    expect(verifyWebhookSignature(secret, header, body + ' ', 1_800_000_000)).toMatchObject({ ok: false });
    expect(verifyWebhookSignature('whsec_other', header, body, 1_800_000_000)).toMatchObject({ ok: false });
    expect(verifyWebhookSignature(secret, header, body, 1_800_000_301)).toEqual({
      ok: false,
      reason: 'timestamp outside tolerance',
    });
    expect(verifyWebhookSignature(secret, undefined, body, 1_800_000_000)).toEqual({
      ok: false,
      reason: 'no signature header',
    });
    expect(verifyWebhookSignature(secret, 'v1=abc', body, 1_800_000_000)).toEqual({
      ok: false,
      reason: 'no timestamp',
    });
  });

  it('accepts any one of several v1 values (a rotation signs with both secrets)', () => {
    const header = signWebhook(secret, 1_800_000_000, body);
    const other = signWebhook('whsec_old', 1_800_000_000, body).split(',')[1]!;
    expect(verifyWebhookSignature(secret, `${header},${other}`, body, 1_800_000_000)).toMatchObject({
      ok: true,
    });
    expect(verifyWebhookSignature('whsec_old', `${header},${other}`, body, 1_800_000_000)).toMatchObject({
      ok: true,
    });
  });

  it('makes secrets of 32 random bytes', () => {
    expect(newWebhookSecret(() => Buffer.alloc(32, 1))).toBe(
      `whsec_${Buffer.alloc(32, 1).toString('base64url')}`,
    );
    expect(newWebhookSecret()).not.toBe(newWebhookSecret());
  });
});

describe('retry schedule', () => {
  const policy = { baseMs: 1_000, capMs: 60_000, giveUpAfterMs: 3_600_000 };

  it('doubles the bound each attempt up to the cap, never below a tenth of it', () => {
    expect(retryDelayMs(policy, 1, () => 0)).toBe(100);
    expect(retryDelayMs(policy, 1, () => 0.999999)).toBe(1_000);
    expect(retryDelayMs(policy, 3, () => 0.999999)).toBe(4_000);
    expect(retryDelayMs(policy, 30, () => 0.999999)).toBe(60_000);
    expect(retryDelayMs(policy, 30, () => 0)).toBe(6_000);
  });

  it('spreads retries with jitter', () => {
    const delays = new Set(Array.from({ length: 20 }, () => retryDelayMs(policy, 5)));
    expect(delays.size).toBeGreaterThan(10);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(1_600);
  });

  it('gives up once the next attempt would fall past the retry period', () => {
    expect(nextAttemptAt(policy, 0, 1, 1_000, () => 0.5)).toBe(1_000 + 550);
    expect(nextAttemptAt(policy, 0, 20, 3_590_000, () => 0.5)).toBeNull();
  });
});
