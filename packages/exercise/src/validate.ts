import {
  durationMs,
  exerciseScenarioSchema,
  type ExerciseScenario,
  type Organisation,
  type Sector,
} from '@renkei/schema';

/** One problem of a scenario, named by its path in the file (`injects[3].at`). */
export interface ScenarioIssue {
  path: string;
  message: string;
}

export type ScenarioCheck =
  { ok: true; scenario: ExerciseScenario; participants: string[] } | { ok: false; issues: ScenarioIssue[] };

/** What a scenario is checked against: the registry as it is when the run is planned. */
export type OrganisationLookup = (id: string) => Pick<Organisation, 'id' | 'sector' | 'enabled'> | undefined;

/**
 * Checks a scenario file: its shape (the schema), then what the shape cannot
 * say — ids unique, every reference to an inject or expectation that exists and
 * is of the right kind, every organisation known and enabled, every deadline
 * after what it follows, no cycle of expectations — so nothing of a run is
 * scheduled from a scenario that could not be played through. The
 * participants are the organisations it names and the enabled ones of the
 * sectors it names, sorted.
 */
export function checkScenario(
  input: unknown,
  organisations: OrganisationLookup,
  enabledInSectors: (sectors: readonly Sector[]) => string[],
): ScenarioCheck {
  const parsed = exerciseScenarioSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => ({ path: pathOf(issue.path), message: issue.message })),
    };
  }
  const scenario = parsed.data;
  const issues: ScenarioIssue[] = [];
  const known = (path: string, id: string) => {
    const organisation = organisations(id);
    if (!organisation) issues.push({ path, message: `names no registered organisation (${id})` });
    else if (!organisation.enabled) issues.push({ path, message: `names a disabled organisation (${id})` });
  };

  const participants = new Set<string>();
  scenario.participants.forEach((participant, index) => {
    if ('organisation' in participant) {
      known(`participants[${index}].organisation`, participant.organisation);
      participants.add(participant.organisation);
    } else {
      const members = enabledInSectors([participant.sector]);
      if (members.length === 0)
        issues.push({
          path: `participants[${index}].sector`,
          message: `has no enabled organisation (${participant.sector})`,
        });
      for (const id of members) participants.add(id);
    }
  });

  const steps = new Map<string, { kind: string; path: string }>();
  const claim = (id: string, kind: string, path: string) => {
    if (steps.has(id)) issues.push({ path: `${path}.id`, message: `repeats the id ${id}` });
    else steps.set(id, { kind, path });
  };
  scenario.injects.forEach((inject, index) => {
    const path = `injects[${index}]`;
    claim(inject.id, `inject:${inject.kind}`, path);
    if (inject.kind === 'report') known(`${path}.from`, inject.from);
    if (inject.kind === 'information-request') {
      known(`${path}.to`, inject.to);
      if (!participants.has(inject.to))
        issues.push({ path: `${path}.to`, message: `is not a participant (${inject.to})` });
    }
  });
  scenario.expectations.forEach((expectation, index) => {
    claim(expectation.id, `expectation:${expectation.kind}`, `expectations[${index}]`);
  });

  const wanted: Record<ExerciseScenario['expectations'][number]['kind'], string> = {
    acknowledge: 'inject:warning',
    'publish-warning': 'inject:report',
    triage: 'inject:report',
    report: 'any',
  };
  scenario.expectations.forEach((expectation, index) => {
    const path = `expectations[${index}]`;
    const anchor = steps.get(expectation.after);
    if (!anchor) {
      issues.push({
        path: `${path}.after`,
        message: `names no inject or expectation (${expectation.after})`,
      });
    } else if (wanted[expectation.kind] !== 'any' && anchor.kind !== wanted[expectation.kind]) {
      issues.push({
        path: `${path}.after`,
        message: `must name a ${wanted[expectation.kind]!.slice('inject:'.length)} inject (${expectation.after} is ${anchor.kind.replace(':', ' ')})`,
      });
    }
    if (durationMs(expectation.within) <= 0)
      issues.push({ path: `${path}.within`, message: 'puts the deadline at or before what it follows' });
    if (expectation.kind === 'report') {
      known(`${path}.participant`, expectation.participant);
      if (!participants.has(expectation.participant))
        issues.push({
          path: `${path}.participant`,
          message: `is not a participant (${expectation.participant})`,
        });
    }
  });

  for (const cycle of expectationCycles(scenario)) {
    issues.push({
      path: `expectations[${cycle.index}].after`,
      message: `makes a cycle of expectations (${cycle.ids.join(' → ')})`,
    });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, scenario, participants: [...participants].sort() };
}

/** Expectations that, following `after` from one expectation to the next, come back to themselves. */
function expectationCycles(scenario: ExerciseScenario): { index: number; ids: string[] }[] {
  const byId = new Map(
    scenario.expectations.map((expectation, index) => [expectation.id, { expectation, index }]),
  );
  const reported = new Set<string>();
  const cycles: { index: number; ids: string[] }[] = [];
  for (const { id } of scenario.expectations) {
    const seen: string[] = [];
    let current: string | undefined = id;
    while (current !== undefined && byId.has(current) && !seen.includes(current)) {
      seen.push(current);
      current = byId.get(current)!.expectation.after;
    }
    if (current === undefined || !byId.has(current) || current !== id) continue;
    const ids = [...seen, id];
    const key = [...seen].sort().join(' ');
    if (reported.has(key)) continue;
    reported.add(key);
    cycles.push({ index: byId.get(id)!.index, ids });
  }
  return cycles;
}

function pathOf(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}
