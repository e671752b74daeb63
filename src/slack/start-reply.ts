import type { CommandResult } from './command-types.js';
import type { StartOutcome } from './incident-service.js';
import { ephemeral } from './replies.js';

/**
 * The ephemeral answer to starting a pipeline (commands and buttons). `opened`: the run opened
 * its own incident (`/triage run`), so a join means the open incident of that server.
 */
export function startedReply(outcome: StartOutcome, pipeline: string, opened?: string): CommandResult {
  const id = outcome.incident.id;
  switch (outcome.kind) {
    case 'resolved':
      return ephemeral(`\`${id}\` is resolved. Start a new incident with \`/triage capture ${outcome.incident.server}\`.`, 'resolved', { incidentId: id });
    case 'joined':
      return opened
        ? ephemeral(`Joined open incident \`${id}\` on *${opened}*: a ${pipeline} is already on it; its thread has the progress.`, 'joined', { incidentId: id })
        : ephemeral(`A ${pipeline} of \`${id}\` is already running; its status is in the incident's thread.`, 'joined', { incidentId: id });
    case 'started':
      return opened
        ? ephemeral(`Started \`${id}\`: ${pipeline} on *${opened}* (host \`${outcome.incident.host}\`). Progress and the summary follow in the thread.`, 'started', { incidentId: id })
        : ephemeral(`Queued ${pipeline} of \`${id}\` on \`${outcome.incident.host}\`; progress follows in the incident's thread.`, 'started', { incidentId: id });
  }
}
