export {
  MAX_QUERY_LENGTH,
  readLookupValue,
  readQuery,
  TRIGRAM_LENGTH,
  type IndicatorQuery,
  type NetworkQuery,
  type QueryResult,
  type ReadQuery,
  type TextQuery,
} from './query.js';
export {
  MAX_SEARCH_OFFSET,
  packPage,
  searchFingerprint,
  SEARCH_GROUPS,
  unpackPage,
  type PagePosition,
  type SearchGroup,
} from './paging.js';
