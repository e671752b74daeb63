import type { CommandResult } from './command-types.js';
import type { StartOutcome } from './incident-service.js';
import { ephemeral } from './replies.js';

/** The ephemeral answer to starting a pipeline on an existing incident (commands and buttons). */
export function startedReply(outcome: StartOutcome, pipeline: string): CommandResult {
  const id = outcome.incident.id;
  switch (outcome.kind) {
    case 'resolved':
      return ephemeral(`\`${id}\` is resolved. Start a new incident with \`/triage capture ${outcome.incident.server}\`.`, 'resolved', { incidentId: id });
    case 'joined':
      return ephemeral(`A ${pipeline} of \`${id}\` is already running; its status is in the incident's thread.`, 'joined', { incidentId: id });
    case 'started':
      return ephemeral(`Queued ${pipeline} of \`${id}\` on \`${outcome.incident.host}\`; progress follows in the incident's thread.`, 'started', { incidentId: id });
  }
}
