import type { Invocation } from './command-types.js';

/**
 * Splits slash-command text into a subcommand, positional args and `--flag value` / `--flag=value`
 * pairs. Slack sends plain text; quotes are not special (server and incident names have no spaces).
 */
export function parseInvocation(text: string, who: { user: string; channel: string; retryNum?: number }): Invocation {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [sub = 'help', ...rest] = words;
  const args: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i] as string;
    if (!word.startsWith('--') || word === '--') {
      args.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    if (eq > 2) {
      flags[word.slice(2, eq)] = word.slice(eq + 1);
      continue;
    }
    const next = rest[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags[word.slice(2)] = next;
      i++;
    } else {
      flags[word.slice(2)] = true;
    }
  }
  return { sub: sub.toLowerCase(), args, flags, text, user: who.user, channel: who.channel, ...(who.retryNum !== undefined ? { retryNum: who.retryNum } : {}) };
}

/** Flags a subcommand does not know: each is a usage error, never silently ignored. */
export function unknownFlags(inv: Invocation, known: readonly string[]): string[] {
  return Object.keys(inv.flags).filter((f) => !known.includes(f));
}
