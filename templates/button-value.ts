import { z } from 'zod';
import { LIMITS } from './blocks-kit.js';

/**
 * What a button carries (its `value`, at most 2000 characters): the incident, and for the buttons
 * of a thread result the job whose result they belong to, so a press on an older summary can be
 * told apart ("superseded"). Confirm buttons of slash commands carry the request itself.
 */
export const buttonValueSchema = z.object({
  /** Incident id. */
  i: z.string().max(200).optional(),
  /** Job id of the result message this button is on. */
  j: z.string().max(300).optional(),
  /** Pipeline to run. */
  p: z.string().max(40).optional(),
  /** Server (a run that opens its own incident). */
  s: z.string().max(63).optional(),
  /** Replay target (a registered server). */
  t: z.string().max(63).optional(),
  /** Regression refs. */
  g: z.string().max(200).optional(),
  b: z.string().max(200).optional(),
  /** regression: also run `git bisect`. */
  bi: z.literal(1).optional(),
  /** wrong-output: also compare against production. */
  cp: z.literal(1).optional(),
  /** Resolve reason. */
  r: z.string().max(500).optional(),
});
export type ButtonValue = z.infer<typeof buttonValueSchema>;

export const REASON_MAX = 500;

/** JSON within Slack's 2000 characters; a free-text reason is cut until it fits (escapes can grow it). */
export function encodeButtonValue(value: ButtonValue): string {
  let current = value;
  let json = JSON.stringify(current);
  while (json.length > LIMITS.buttonValue && current.r) {
    current = { ...current, r: current.r.slice(0, Math.floor(current.r.length * 0.8)) };
    json = JSON.stringify(current);
  }
  if (json.length > LIMITS.buttonValue) throw new Error(`button value of ${json.length} characters (limit ${LIMITS.buttonValue})`);
  return json;
}

/** A value this bot wrote, or a bare incident id (buttons posted before values were JSON). */
export function decodeButtonValue(raw: string | undefined): ButtonValue | null {
  if (!raw) return null;
  if (!raw.startsWith('{')) return /^inc-[A-Za-z0-9._-]{1,200}$/.test(raw) ? { i: raw } : null;
  try {
    const parsed = buttonValueSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
