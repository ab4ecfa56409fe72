export {
  alertTlpsFor,
  audienceOf,
  canReadReport,
  isAnalyst,
  REPORTING_ROLES,
  TLP_SHARED_WITH_EVERYONE,
  viewAlert,
  viewAlertChange,
  viewFeedEvent,
  viewWarning,
  WARNING_RECIPIENT_ROLES,
  type Viewer,
} from './visibility.js';
