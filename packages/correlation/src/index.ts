export { nameBasedId, RENKEI_ID_NAMESPACE } from './ids.js';
export { highestSeverity, mostRestrictiveTlp } from './order.js';
export {
  evaluateSharedIndicator,
  SHARED_INDICATOR,
  sharedIndicatorKey,
  type AlertDraft,
  type SharedIndicatorInput,
  type Sighting,
} from './shared-indicator.js';
