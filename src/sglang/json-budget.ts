/**
 * A bounded look at a JSON text before it is parsed. SGLang's JSON endpoints answer a few KB (a /v1/loads
 * of 64 DP ranks is ~60 KB); a body of millions of values is not a server's answer, and parsing it (then
 * redacting and re-serialising it) would cost seconds and gigabytes. One pass over the characters, no
 * allocation, no recursion: counts values (by their separators) and nesting depth, skipping strings.
 */
export interface JsonBudget {
  maxValues: number;
  maxDepth: number;
}

export const DEFAULT_JSON_BUDGET: JsonBudget = { maxValues: 250_000, maxDepth: 1000 };

export type JsonBudgetResult = { ok: true; values: number; depth: number } | { ok: false; reason: string };

export function checkJsonBudget(text: string, budget: JsonBudget = DEFAULT_JSON_BUDGET): JsonBudgetResult {
  let depth = 0;
  let maxDepth = 0;
  let values = 1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > maxDepth) maxDepth = depth;
      if (maxDepth > budget.maxDepth) return { ok: false, reason: `response nests deeper than ${budget.maxDepth} levels` };
    } else if (c === 125 || c === 93) depth--;
    else if (c === 44 || c === 58) {
      if (++values > budget.maxValues) return { ok: false, reason: `response holds more than ${budget.maxValues} JSON values (${text.length} characters): not parsed` };
    }
  }
  return { ok: true, values, depth: maxDepth };
}
