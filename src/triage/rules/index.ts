import type { Rule } from '../rule.js';
import { GPU_RULES } from './gpu-rules.js';
import { generationStalledRule, replayDegradedRule, serverDownRule } from './health.js';
import { profileTraceRule } from './profile.js';
import { regressionRule } from './regression.js';
import { replayRule } from './replay.js';
import { wrongOutputRule } from './wrong-output.js';
import { computeSlowRule, queuePressureRule } from './slow.js';

/** Every routing rule, in tie-break order. Each rule lives in its own module. */
export const RULES: readonly Rule[] = [
  serverDownRule,
  replayDegradedRule,
  generationStalledRule,
  profileTraceRule,
  computeSlowRule,
  queuePressureRule,
  replayRule,
  regressionRule,
  wrongOutputRule,
  ...GPU_RULES,
];
