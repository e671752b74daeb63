import { TriageError } from '../errors.js';
import type { Subcommand } from './io.js';

// Placeholder until the dump pipeline lands.
export const dumpCommand: Subcommand = async () => {
  throw new TriageError('E_USAGE', 'triage dump is not available in this build');
};
