import { TriageError } from '../errors.js';
import type { Subcommand } from './io.js';

// Placeholder until the replay pipeline lands.
export const replayCommand: Subcommand = async () => {
  throw new TriageError('E_USAGE', 'triage replay is not available in this build');
};
