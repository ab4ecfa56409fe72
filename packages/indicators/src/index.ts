export {
  INDICATOR_TYPES,
  indicatorKey,
  type CanonicalIndicator,
  type CanonicalResult,
  type DerivedIndicator,
  type IndicatorType,
} from './types.js';
export { canonicalDomain, canonicalIndicator, refang } from './canonical.js';
export {
  compileWarningLists,
  parseWarningList,
  type WarningList,
  type WarningListMatcher,
} from './warning-lists.js';

/** The MISP warning lists the hub ships (see the README beside them for origin and licence). */
export const SHIPPED_WARNING_LISTS_DIR = new URL('../warninglists/', import.meta.url);
export { readIndicators, type Observable, type ReadIndicator } from './observables.js';
export { canonicalCidr } from './cidr.js';
