import type { CommandDeps, SlashCommand } from '../src/slack/command-types.js';
import { ephemeral } from '../src/slack/replies.js';

/** `/triage help`: the subcommands and the method in one line. Answered in the ack itself. */
export const help: SlashCommand = {
  name: 'help',
  usage: '/triage help',
  summary: 'this list',
  check(_inv, deps) {
    return ephemeral(helpText(deps));
  },
  async run(_inv, deps) {
    return ephemeral(helpText(deps));
  },
};

export function helpText(deps: Pick<CommandDeps, 'catalog'>): string {
  const lines = deps.catalog.map((c) => `• \`${c.usage}\`: ${c.summary}`);
  return ['*Incident triage for SGLang.* Keep the scene first, then replay, then hand off to the right skill.', ...lines].join('\n');
}
