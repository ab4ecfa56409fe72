export {
  alertTlpsFor,
  audienceOf,
  canReadReport,
  isAnalyst,
  isWarningRecipient,
  REPORTING_ROLES,
  seesEveryVersion,
  TLP_SHARED_WITH_EVERYONE,
  viewAlert,
  viewAlertChange,
  viewedVersion,
  viewFeedEvent,
  viewWarning,
  WARNING_RECIPIENT_ROLES,
  warningSectorFilter,
  type Viewer,
} from './visibility.js';
export {
  contentAt,
  contributionsAt,
  historyFor,
  knownReportIds,
  type ViewContent,
  type ViewerHistory,
} from './alert-views.js';
export { describeView, describeViewText, type ViewFacts } from './describe.js';
export { VIEW_RULES, type ViewRules } from './view-rules.js';
export {
  alertForExport,
  audienceAdmits,
  audienceCeiling,
  audienceReader,
  namesContributors,
  reportAuthorship,
  reportExportFilter,
  taxiiAudiencesFor,
  warningForExport,
  type Authorship,
  type ExportReader,
  type TaxiiAudience,
} from './exports.js';
export {
  canChangeReportTlp,
  judgeTlpChange,
  tightensTlp,
  tlpAfterChanges,
  type TlpChangeJudgement,
} from './tlp-change.js';
export {
  alertCarrying,
  reportInSearch,
  searchesAlertTitles,
  searchScope,
  type SearchPresence,
  type SearchScope,
} from './search.js';
