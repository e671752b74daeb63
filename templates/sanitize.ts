/**
 * The one place where text that came from evidence (server error bodies, pickle strings, log
 * excerpts, report fields) is made safe for where it is shown. Every template calls these; none
 * escapes on its own.
 *
 * - Control characters are shown, never obeyed: ESC (so every ANSI/OSC sequence), the other C0
 *   controls, DEL, the C1 range (0x9b is a one-byte CSI) and the Unicode bidi and line/paragraph
 *   separators become visible `\xNN` / `\u{NNNN}` text. Nothing is dropped, so a forged colour
 *   code or a cursor move still reads as what it was.
 * - One-line fields also show their newlines as `\n`, so a value cannot start a fake line
 *   ("next skill: …") in the terminal, a fake heading in report.md or a fake bullet in Slack.
 * - Slack: `&`, `<`, `>` are entity-escaped, so `<!channel>`, `<@U…>`, `<#C…>`, `<!subteam^…>`
 *   and `<http://…|label>` links arrive as text. Inside inline code a backtick would close the
 *   span, so it becomes a look-alike (U+02CB).
 *
 * Each function is a single pass of character-class replaces: linear in the input length.
 */

// C0 except \t and \n, DEL, C1; bidi embeddings/overrides/isolates, LRM/RLM/ALM, LS/PS, BOM.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
const CONTROL_OR_NEWLINE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

function visible(ch: string): string {
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** Control characters shown as text; newlines and tabs kept (multi-line excerpts). */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, visible);
}

/** Control characters and newlines shown as text: for any field that must stay one line. */
export function oneLine(text: string): string {
  return text.replace(CONTROL_OR_NEWLINE, visible);
}

/** Slack mrkdwn's own escaping: &, < and > are its control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Evidence as Slack mrkdwn prose: controls visible, mentions and links inert. Newlines kept. */
export function slackText(value: unknown): string {
  return escapeMrkdwn(escapeControls(String(value)));
}

/** Evidence as one line of Slack mrkdwn (a bullet, a field). */
export function slackLine(value: unknown): string {
  return escapeMrkdwn(oneLine(String(value)));
}

/** Evidence inside Slack inline code (`…`) or a code block: a backtick must not end the span. */
export function slackCode(value: unknown): string {
  return slackLine(value).replace(/`/g, '\u02cb');
}

/** Evidence in a code block (multi-line kept, fences cannot be closed from inside). */
export function slackCodeBlock(value: unknown): string {
  return slackText(value).replace(/`/g, '\u02cb');
}

/**
 * A value a person typed, echoed back in a reply: one line, capped, safe as inline code.
 * A 1 MiB argument comes back as its first `max` characters and a count of the rest.
 */
export function echo(value: string, max = 80): string {
  const cut = value.length > max ? `${value.slice(0, max)}… (${value.length - max} more characters)` : value;
  return slackCode(cut);
}

/** Evidence on a terminal line (report text, SUMMARY.txt). */
export function terminalLine(value: unknown): string {
  return oneLine(String(value));
}

/** Evidence as one line of Markdown (report.md): controls and newlines visible, raw HTML inert. */
export function markdownLine(value: unknown): string {
  return oneLine(String(value)).replace(/[<>]/g, (c) => `\\${c}`);
}

/** A Markdown table cell: one line, and a `|` cannot open a new column. */
export function markdownCell(value: unknown): string {
  return markdownLine(value).replace(/\|/g, '\\|');
}

/** A fence longer than any backtick run inside `lines`, so the content cannot close it. */
export function markdownFence(lines: readonly string[]): string {
  let longest = 0;
  for (const line of lines) for (const run of line.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return '`'.repeat(Math.max(3, longest + 1));
}
