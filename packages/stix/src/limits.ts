/**
 * Bounds on what one import may ask of the hub. They keep a hostile or broken
 * bundle from costing more than a few hundred milliseconds or exhausting the
 * stack, and each is reported with its number when it is reached.
 */

/** Objects in one bundle (or TAXII envelope); above this the whole bundle is refused. */
export const MAX_BUNDLE_OBJECTS = 20_000;

/** Characters in one indicator pattern; a longer pattern is listed as unsupported. */
export const MAX_PATTERN_LENGTH = 16_384;

/** Nesting of brackets and parentheses in one pattern: the parser recurses once per level. */
export const MAX_PATTERN_DEPTH = 32;

/** Comparisons in one pattern. */
export const MAX_PATTERN_COMPARISONS = 1_000;

/** Entries of one `object_refs` list, or of one observed-data `objects` dictionary. */
export const MAX_REFS_PER_OBJECT = 20_000;

/** Characters Renkei keeps of a title and of a description (the report schema's bounds). */
export const MAX_TITLE_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 10_000;
