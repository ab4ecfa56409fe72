import { describe, expect, it } from 'vitest';
import { isoTimestamp } from '../src/pool.js';

describe('isoTimestamp', () => {
  it('gives what Date gives for every form a UTC session sends', () => {
    const values = [
      '2026-10-01 00:00:00+00',
      '2026-10-01 12:34:56.7+00',
      '2026-10-01 12:34:56.78+00',
      '2026-10-01 12:34:56.789+00',
      '2026-10-01 12:34:56.789999+00',
      '1999-12-31 23:59:59.000001+00',
    ];
    for (let i = 0; i < 2000; i += 1) {
      const time = new Date(
        Date.UTC(1000 + ((i * 37) % 9000), i % 12, 1 + (i % 28), i % 24, i % 60, (i * 7) % 60),
      );
      const micros = String((i * 7919) % 1_000_000)
        .padStart(6, '0')
        .slice(0, 1 + (i % 6));
      values.push(
        `${time.toISOString().slice(0, 19).replace('T', ' ')}${i % 7 === 0 ? '' : `.${micros}`}+00`,
      );
    }
    for (const value of values) expect(isoTimestamp(value)).toBe(new Date(value).toISOString());
  });

  it('leaves other zones, early years and infinity to Date', () => {
    for (const value of ['2026-10-01 09:00:00+09', '0099-01-01 00:00:00+00', '2026-10-01 09:00:00+05:30']) {
      expect(isoTimestamp(value)).toBe(new Date(value).toISOString());
    }
    expect(() => isoTimestamp('infinity')).toThrow(RangeError);
  });
});
