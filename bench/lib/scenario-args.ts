/**
 * What `npm run bench` and `npm run faults` share on their command line: a
 * list of named scenarios with settings, `--list`, `--only a,b` and
 * `--set <scenario>.<setting>=<number>`.
 */
export interface NamedScenario {
  name: string;
  title: string;
  settings: Record<string, { description: string; full: number; smoke: number }>;
}

/** One line per scenario and one per setting, as `--list` prints them. */
export function describeScenarios(scenarios: readonly NamedScenario[]): string {
  return scenarios
    .flatMap((scenario) => [
      `${scenario.name}: ${scenario.title}`,
      ...Object.entries(scenario.settings).map(
        ([name, setting]) =>
          `  ${scenario.name}.${name} = ${setting.full} (smoke ${setting.smoke}): ${setting.description}`,
      ),
    ])
    .join('\n');
}

/** The scenarios `--only` names, in its order, or all of them. */
export function selectScenarios<S extends NamedScenario>(
  scenarios: readonly S[],
  only: string | undefined,
): S[] {
  if (!only) return [...scenarios];
  return only.split(',').map((name) => {
    const scenario = scenarios.find((candidate) => candidate.name === name.trim());
    if (!scenario)
      throw new Error(`no scenario ${name}; there are ${scenarios.map((s) => s.name).join(', ')}`);
    return scenario;
  });
}

/** `--set` assignments by `<scenario>.<setting>`; a name `--list` does not show is refused. */
export function settingOverrides(
  scenarios: readonly NamedScenario[],
  assignments: readonly string[],
): Map<string, number> {
  const overrides = new Map<string, number>();
  for (const assignment of assignments) {
    const match = /^([a-z0-9-]+)\.([A-Za-z0-9]+)=(\d+(?:\.\d+)?)$/.exec(assignment);
    const scenario = match && scenarios.find((candidate) => candidate.name === match[1]);
    if (!match || !scenario?.settings[match[2]!])
      throw new Error(
        `--set ${assignment}: expected <scenario>.<setting>=<number> naming a setting --list shows`,
      );
    overrides.set(`${match[1]}.${match[2]}`, Number(match[3]));
  }
  return overrides;
}
