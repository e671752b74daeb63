/**
 * Redaction of what a dump summary carries, with src/sglang/redact.ts's rules (its exported
 * functions: the table lives there). Iterative, and null-prototype objects stay null-prototype so
 * a `__proto__` field read from a dump stays a field.
 */
import { isSecretKey, REDACTED, redactConfigString, redactText } from '../../sglang/redact.js';
import type { JsonValue } from '../pickle/index.js';

type JsonObject = { [key: string]: JsonValue };

/** A copy of `value` with secret-named fields replaced and every string redacted. */
export function redactJson(value: JsonValue): JsonValue {
  const root: JsonObject = Object.create(null);
  const todo: Array<{ from: JsonValue; into: JsonObject | JsonValue[]; key: string | number; parentKey: string | null }> = [
    { from: value, into: root, key: 'v', parentKey: null },
  ];
  while (todo.length) {
    const { from, into, key, parentKey } = todo.pop()!;
    let copy: JsonValue;
    if (parentKey !== null && isSecretKey(parentKey) && from !== null && typeof from !== 'boolean') {
      copy = REDACTED;
    } else if (typeof from === 'string') {
      copy = redactString(from);
    } else if (Array.isArray(from)) {
      const arr: JsonValue[] = new Array(from.length).fill(null);
      for (let i = from.length - 1; i >= 0; i--) todo.push({ from: from[i]!, into: arr, key: i, parentKey });
      copy = arr;
    } else if (from !== null && typeof from === 'object') {
      const obj: JsonObject = Object.create(null);
      const keys = Object.keys(from);
      for (let i = keys.length - 1; i >= 0; i--) todo.push({ from: from[keys[i]!]!, into: obj, key: keys[i]!, parentKey: keys[i]! });
      copy = obj;
    } else {
      copy = from;
    }
    (into as Record<string | number, JsonValue>)[key] = copy;
  }
  return root.v!;
}

/** A string value: JSON-looking configs by their keys, anything else as text. */
export function redactString(text: string): string {
  const head = text.trimStart()[0];
  return head === '{' || head === '[' ? redactConfigString(text) : redactText(text);
}

/** redactText with a memo for strings that repeat (file paths, finish reasons) across thousands of rows. */
export function memoRedactor(): (text: string) => string {
  const seen = new Map<string, string>();
  return (text) => {
    let out = seen.get(text);
    if (out === undefined) {
      out = redactText(text);
      if (seen.size < 10_000 && text.length <= 4096) seen.set(text, out);
    }
    return out;
  };
}

