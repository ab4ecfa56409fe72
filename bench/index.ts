/**
 * Every benchmark scenario, one after the other, each printing its figures
 * and its ratio against a baseline measured in the same run.
 *
 *   npm run bench                      # every scenario
 *   npm run bench -- correlation       # one scenario (its own arguments may follow)
 */
const SCENARIOS: Record<string, string> = {
  'ingest-vs-kafka': './ingest-vs-kafka.ts',
  correlation: './correlation.ts',
};

const chosen = process.argv[2];
if (chosen !== undefined && chosen in SCENARIOS) {
  // The scenario reads its own arguments from where they would be if it ran alone.
  process.argv.splice(2, 1);
  await import(SCENARIOS[chosen]!);
} else {
  if (chosen !== undefined && !/^\d+$/u.test(chosen)) {
    throw new Error(`no benchmark "${chosen}"; there are: ${Object.keys(SCENARIOS).join(', ')}`);
  }
  for (const [name, module] of Object.entries(SCENARIOS)) {
    console.log(`\n=== ${name}`);
    await import(module);
  }
}
