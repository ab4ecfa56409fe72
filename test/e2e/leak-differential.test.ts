import { describe, expect, it } from 'vitest';
import {
  CI_SIZE,
  formatLeakReport,
  LEAK_VIEWERS,
  runLeakCheck,
  SET_ASIDE,
  summarise,
} from '../support/leak/index.js';

/**
 * The history CI runs (see LEAK_SEED below): on the code issue 16 was filed
 * against it shows defects 1 and 2 and alert-list cursors that count hidden
 * versions, each on several paths, and it forms every kind of alert.
 */
const DEFAULT_SEED = 3;

/**
 * Issue 16, "what to build" #2: nothing a member may not know of changes
 * anything it observes. A random history (five organisations in three
 * sectors, every TLP, shared and private indicators, sector surges, TLP
 * tightenings, warnings) runs once whole (world A) and, for every
 * non-analyst viewer, once without the steps the policy says it may not know
 * of (world B). Every answer of every path the viewer can ask (alert lists
 * both ways and their pages, alert details, the stream replayed and resumed,
 * the STIX export whole, paged by `Renkei-Next-Since` and since each moment,
 * TAXII collections, objects, manifest, versions and their pages and date
 * headers, warnings, search by every value of the history and by text with
 * its pages, one lookup of every value) must be the same in both worlds, headers included,
 * once times and tokens are canonicalised (test/support/leak/canonical.ts);
 * and no time the viewer gets in world A may be one written for a step it
 * may not know of.
 *
 * Set aside, and why: see SET_ASIDE (the `date` header: the time of the
 * request; `sec-websocket-accept`: derived from the client's own random key).
 * Times the hub wrote are compared by the step that wrote them, never by
 * value, because the same step runs at another moment in each world.
 *
 * A failure prints the seed, the history and every finding.
 */
describe('the differential leak test', () => {
  // A fixed seed keeps CI's verdict a function of the code; LEAK_SEED=<n> replays another
  // history and LEAK_SEED=random explores (npm run leak-check explores at larger sizes).
  const chosen = process.env.LEAK_SEED ?? String(DEFAULT_SEED);
  const seed = chosen === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(chosen);

  it(`gives every viewer the same answers whether or not what it may not know of happened (seed ${seed})`, async () => {
    const result = await runLeakCheck({ seed, size: CI_SIZE });
    const report = formatLeakReport(result);

    // What the run saw: a property checked over nothing proves nothing.
    expect(result.coverage.alertKinds, report).toEqual(
      expect.arrayContaining(['campaign', 'sector-surge', 'shared-indicator']),
    );
    expect(result.worlds.length, report).toBeGreaterThan(0);
    expect(result.worlds.flatMap((w) => w.viewers).length, report).toBeGreaterThanOrEqual(
      LEAK_VIEWERS.length / 2,
    );
    for (const figure of [
      'listedAlerts',
      'streamAlertFrames',
      'stixGroupings',
      'taxiiObjects',
      'warnings',
      'searchHits',
      'lookupKnown',
    ] as const)
      expect(result.coverage[figure], `${figure}\n${report}`).toBeGreaterThan(0);
    expect(SET_ASIDE.map((s) => s.header)).toEqual(['date', 'sec-websocket-accept']);

    if (result.findings.length > 0) console.error(report);
    expect(summarise(result.findings), report).toEqual([]);
  }, 300_000);
});
