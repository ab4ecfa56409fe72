import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const css = readFileSync(new URL('../../src/style.css', import.meta.url), 'utf8');

/** The custom properties of one theme block of style.css. */
function theme(selector: string): Map<string, string> {
  const start = css.indexOf(`${selector} {`);
  const block = css.slice(start, css.indexOf('}', start));
  return new Map([...block.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6})/gi)].map((m) => [m[1]!, m[2]!]));
}

function luminance(hex: string): number {
  const channel = (offset: number) => {
    const value = parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}

/** Every text colour on every background it is drawn on. */
const PAIRS: [string, string][] = [
  ['fg', 'bg'],
  ['fg', 'card'],
  ['fg', 'input-bg'],
  ['fg', 'button-bg'],
  ['fg', 'row-alt'],
  ['muted', 'card'],
  ['muted', 'bg'],
  ['link', 'card'],
  ['link', 'bg'],
  ['header-fg', 'header-bg'],
  ['primary-fg', 'primary-bg'],
  ['disabled-fg', 'disabled-bg'],
  ['error', 'card'],
  ['ok', 'card'],
  ['live-fg', 'live-bg'],
  ['wait-fg', 'wait-bg'],
  ['bad-fg', 'bad-bg'],
  ['exercise-fg', 'exercise-bg'],
  ['sev-low-fg', 'sev-low-bg'],
  ['sev-medium-fg', 'sev-medium-bg'],
  ['sev-high-fg', 'sev-high-bg'],
  ['sev-critical-fg', 'sev-critical-bg'],
  ['heat-0-fg', 'heat-0-bg'],
  ['heat-low-fg', 'heat-1-bg'],
  ['heat-low-fg', 'heat-2-bg'],
  ['heat-low-fg', 'heat-3-bg'],
  ['heat-4-fg', 'heat-4-bg'],
];

describe('both themes are readable (WCAG AA: 4.5:1 for text)', () => {
  it.each([
    ['light', ':root'],
    ['dark', ":root[data-theme='dark']"],
  ])('%s', (_name, selector) => {
    const colours = theme(selector);
    expect(colours.size, 'the theme block was read').toBeGreaterThan(40);
    expect(contrast('#767676', '#ffffff')).toBeCloseTo(4.54, 1);
    const low = PAIRS.flatMap(([text, background]) => {
      const [a, b] = [colours.get(text), colours.get(background)];
      if (!a || !b) return [`${text} on ${background}: missing`];
      const ratio = contrast(a, b);
      return ratio >= 4.5 ? [] : [`${text} on ${background}: ${ratio.toFixed(2)}`];
    });
    expect(low).toEqual([]);
  });
});
