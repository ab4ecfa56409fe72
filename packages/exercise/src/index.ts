export {
  checkScenario,
  type OrganisationLookup,
  type ScenarioCheck,
  type ScenarioIssue,
} from './validate.js';
export { realTimeOf, scenarioTime, type RunClock } from './clock.js';
export { evaluateExpectations, type RunFacts } from './evaluate.js';
export {
  afterActionReport,
  FLOW_KINDS,
  median,
  summaryOf,
  type AfterActionInput,
  type AfterActionReport,
  type FlowKind,
  type RunSummary,
} from './after-action.js';
export {
  axisFor,
  quantile,
  reportFigures,
  type Axis,
  type Distribution,
  type ReportFigures,
  type Shares,
} from './figures.js';
export { afterActionCsv, afterActionHtml, escapeHtml, formatDuration, type Language } from './render.js';

/** The scenario templates shipped with the hub (`renkei exercise validate` and the console offer them). */
export const SCENARIO_TEMPLATES_DIR = new URL('../scenarios/', import.meta.url);
