import type { Rule } from '../rule.js';

/** Every routing rule, in tie-break order. Each rule lives in its own module. */
export const RULES: readonly Rule[] = [];
