/**
 * How much a card shows (not protocol numbers: nothing here changes a recommendation). A card reads in
 * seconds (docs/clinical-specification.md §6): the inputs list only the latest few pain scores.
 */
export const RECENT_PAIN_SHOWN = 3;
