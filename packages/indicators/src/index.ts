export { indicatorKey, normalizeIndicatorValue } from './normalize.js';
