export {
  canReadReport,
  canSeeAlert,
  isAnalyst,
  REPORTING_ROLES,
  TLP_SHARED_WITH_EVERYONE,
  viewAlert,
} from './visibility.js';
