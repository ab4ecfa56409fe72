import type { ExerciseScenarioInput } from '@renkei/schema';

/** How long (ISO 8601, scenario time) each expectation of the drill allows. */
export interface DrillWindows {
  /** Every participant acknowledges the warning. */
  acknowledge: string;
  /** Water reports the domain back after the request. */
  reportBack: string;
  /** The GSOC triages the alert the two sightings raise. */
  triage: string;
}

/**
 * The end-to-end drill (`e2e-drill`): two sightings of one domain from two
 * organisations (an alert), a warning to finance and water, then a request
 * to water to report back. Participants: the finance sector and water-ceptar.
 */
export function drillScenario(domain: string, within: DrillWindows): ExerciseScenarioInput {
  const sighting = (id: string, at: string, from: string) => ({
    id,
    at,
    kind: 'report' as const,
    from,
    report: {
      title: `Phishing ${id} (exercise)`,
      category: 'phishing' as const,
      severity: 'high' as const,
      tlp: 'GREEN' as const,
      indicators: [{ type: 'domain' as const, value: domain }],
    },
  });
  return {
    schema: 'renkei.exercise-scenario.v1',
    id: 'e2e-drill',
    version: 1,
    title: { ja: '結合試験の訓練', en: 'End-to-end drill' },
    description: { ja: '試験用', en: 'For the test' },
    participants: [{ sector: 'finance' }, { organisation: 'water-ceptar' }],
    injects: [
      sighting('first-sighting', 'PT0M', 'mlit-csirt'),
      sighting('second-sighting', 'PT1M', 'gsoc'),
      {
        id: 'warn',
        at: 'PT2M',
        kind: 'warning',
        warning: {
          title: '訓練 W',
          body: 'Block it',
          severity: 'high',
          tlp: 'GREEN',
          sectors: ['finance', 'water'],
        },
      },
      {
        id: 'ask',
        at: 'PT3M',
        kind: 'information-request',
        to: 'water-ceptar',
        message: { ja: '観測を報告してください', en: 'Report whether you see it' },
      },
    ],
    expectations: [
      { id: 'ack', kind: 'acknowledge', after: 'warn', within: within.acknowledge },
      {
        id: 'back',
        kind: 'report',
        participant: 'water-ceptar',
        indicator: { type: 'domain', value: domain },
        after: 'ask',
        within: within.reportBack,
      },
      { id: 'tri', kind: 'triage', after: 'second-sighting', within: within.triage },
    ],
  };
}
