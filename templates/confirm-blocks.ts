import type { types as slack } from '@slack/bolt';
import { button, section, truncate, type ConfirmDialog } from './blocks-kit.js';
import type { SlackMessage } from './blocks.js';
import { encodeButtonValue, REASON_MAX, type ButtonValue } from './button-value.js';
import { RESOLVE_MODAL } from './blocks.js';
import { slackCode } from './sanitize.js';

/**
 * The ephemeral answer to an intrusive slash command: what it will do, and one button behind a
 * Block Kit confirm dialog. Nothing starts until it is pressed and confirmed. Pure.
 */
export function confirmPromptMessage(prompt: { text: string; label: string; actionId: string; value: ButtonValue; dialog: ConfirmDialog; danger?: boolean }): SlackMessage {
  return {
    text: truncate(prompt.text, 300),
    blocks: [section(prompt.text), { type: 'actions', block_id: 'triage.confirm', elements: [button(prompt.label, prompt.actionId, encodeButtonValue(prompt.value), prompt.danger ? 'danger' : 'primary', prompt.dialog)] }],
  };
}

/** The modal that asks why an incident is resolved (views.open after the confirm dialog). Pure. */
export function resolveReasonModal(incidentId: string, channel: string): slack.ModalView {
  return {
    type: 'modal',
    callback_id: RESOLVE_MODAL,
    private_metadata: JSON.stringify({ i: incidentId, c: channel }),
    title: { type: 'plain_text', text: 'Resolve incident' },
    submit: { type: 'plain_text', text: 'Resolve' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      section(`Resolving \`${slackCode(incidentId)}\`. The reason goes on the incident, its thread and the handoff.`),
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'Why is it resolved?' },
        element: { type: 'plain_text_input', action_id: 'reason', multiline: true, min_length: 3, max_length: REASON_MAX, placeholder: { type: 'plain_text', text: 'e.g. rolled back to v0.4.1; TTFT back under 300 ms' } },
      },
    ],
  };
}
