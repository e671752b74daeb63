/**
 * Shell command lines for people to paste, built from argv arrays through ONE quoting function.
 *
 * Every value that came from data (incident folder, registry paths and URLs, pids, flags) enters a
 * line as a `Word` and is quoted by `shellQuote`. Shell syntax (operators, loops, redirections,
 * `$var` references, globs) comes only from the builders below, whose inputs are checked to be ours:
 * a glob pattern, a variable name, a comment. Comments are fixed text (the `note` template takes
 * numbers only), so no newline from data can end one early. Pure.
 */

import { shellQuote } from '../util/shell-quote.js';

/** The one quoting function (src/util/shell-quote.ts): every literal word below goes through it. */
export { shellQuote };

/** A word the builders emit as shell syntax, not as a literal. */
export type Word = string | Glob | VarRef | Interpolated | Substitution | Concat;
interface Concat {
  readonly kind: 'concat';
  readonly parts: ReadonlyArray<string | VarRef>;
}
interface Glob {
  readonly kind: 'glob';
  readonly dir: string;
  readonly pattern: string;
}
interface VarRef {
  readonly kind: 'var';
  readonly name: string;
}
interface Interpolated {
  readonly kind: 'interpolated';
  readonly parts: ReadonlyArray<string | VarRef>;
}
interface Substitution {
  readonly kind: 'subst';
  readonly line: string;
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GLOB_PATTERN = /^[A-Za-z0-9_.*?/-]+$/;

function ours(ok: boolean, what: string): void {
  if (!ok) throw new Error(`shell builder misuse: ${what}`);
}

/** `<quoted dir>/<pattern>`: the folder is data (quoted), the pattern is ours (left for the shell to expand). */
export function glob(dir: string, pattern: string): Glob {
  ours(GLOB_PATTERN.test(pattern) && !pattern.startsWith('/'), `glob pattern ${JSON.stringify(pattern)}`);
  return { kind: 'glob', dir, pattern };
}

/** `"$name"`: a shell variable the line itself sets (a loop variable) or the user's environment holds. */
export function shellVar(name: string): VarRef {
  ours(VAR_NAME.test(name), `variable name ${JSON.stringify(name)}`);
  return { kind: 'var', name };
}

/** One double-quoted word mixing literal text (escaped) and variable references: `"Bearer $TOKEN"`. */
export function interpolated(...parts: Array<string | VarRef>): Interpolated {
  return { kind: 'interpolated', parts };
}

/** One word from literal pieces (each quoted) and variables: `'dir'/py-spy."$pid".txt`. */
export function concat(...parts: Array<string | VarRef>): Concat {
  return { kind: 'concat', parts };
}

/** `$NAME` inside double quotes; `${NAME}` when a name character follows. */
function varInQuotes(name: string, next: string | VarRef | undefined): string {
  return typeof next === 'string' && /^[A-Za-z0-9_]/.test(next) ? `\${${name}}` : `$${name}`;
}

/** `$(line)`, unquoted on purpose: its output splits into words (a list of pids). `line` must come from these builders. */
export function substitution(line: string): Substitution {
  return { kind: 'subst', line };
}

/** A path as one argument that no command can read as an option (`-rf` becomes `./-rf`). */
export function pathArg(p: string): string {
  return p.startsWith('-') ? `./${p}` : p;
}

function renderWord(word: Word): string {
  if (typeof word === 'string') return shellQuote(word);
  switch (word.kind) {
    case 'glob':
      return `${shellQuote(pathArg(word.dir.replace(/\/+$/, '') || '/'))}/${word.pattern}`;
    case 'var':
      return `"$${word.name}"`;
    case 'interpolated':
      return `"${word.parts.map((p, i) => (typeof p === 'string' ? p.replace(/[\\"$`]/g, (c) => `\\${c}`) : varInQuotes(p.name, word.parts[i + 1]))).join('')}"`;
    case 'concat':
      return word.parts.map((p) => (typeof p === 'string' ? shellQuote(p) : `"$${p.name}"`)).join('');
    case 'subst':
      return `$(${word.line})`;
  }
}

export interface CommandOptions {
  /** Environment assignments before the command (`K=V cmd`). Names must be env var names. */
  env?: Readonly<Record<string, string>>;
  /** Redirect stdout to this file (quoted). */
  stdout?: Word;
  /** Append instead of truncate. */
  append?: boolean;
  /** Also send stderr there (`2>&1`). */
  stderrToStdout?: boolean;
}

/** One simple command: `[K=V ...] argv0 argv1 ... [> file [2>&1]]`. */
export function command(argv: readonly Word[], opts: CommandOptions = {}): string {
  ours(argv.length > 0, 'empty argv');
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => {
    ours(VAR_NAME.test(k), `env name ${JSON.stringify(k)}`);
    return `${k}=${shellQuote(v)}`;
  });
  const words = [...env, ...argv.map(renderWord)];
  if (opts.stdout !== undefined) words.push(opts.append ? '>>' : '>', renderWord(opts.stdout));
  if (opts.stderrToStdout) words.push('2>&1');
  return words.join(' ');
}

/** `a && b && c`: each runs only if the one before succeeded. */
export function and(...lines: string[]): string {
  return lines.join(' && ');
}

/** `a; b`: run both. */
export function seq(...lines: string[]): string {
  return lines.join('; ');
}

/** `a | b`. */
export function pipe(...lines: string[]): string {
  return lines.join(' | ');
}

/** `a || b`: b only when a fails. */
export function or(...lines: string[]): string {
  return lines.join(' || ');
}

/** `for name in words; do body; done`. */
export function forEach(name: string, words: readonly Word[], body: string): string {
  ours(VAR_NAME.test(name), `loop variable ${JSON.stringify(name)}`);
  ours(words.length > 0, 'empty loop list');
  return `for ${name} in ${words.map(renderWord).join(' ')}; do ${body}; done`;
}

/** A comment of ours: fixed text; only numbers may be interpolated (they cannot hold a newline). */
export interface Note {
  readonly text: string;
}
export function note(strings: TemplateStringsArray, ...values: Array<number | null | undefined>): Note {
  const text = strings.reduce((acc, s, i) => acc + s + (i < values.length ? formatNumber(values[i]) : ''), '');
  return fixedNote(text);
}

/** A note from a string constant in our code (never from evidence). Printable ASCII, one line. */
export function fixedNote(text: string): Note {
  ours(/^[\x20-\x7e]*$/.test(text), `note with control or non-ASCII characters: ${JSON.stringify(text)}`);
  return { text };
}

function formatNumber(v: number | null | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : 'n/a';
}

/** Where a command must run, printed as a fixed trailing comment. */
export type Where = 'production' | 'gpu-host' | 'production-gpu-host';
export const WHERE_TAGS: Readonly<Record<Where, string>> = {
  production: '# production',
  'gpu-host': '# on the GPU host',
  'production-gpu-host': '# production, on the GPU host',
};

/** A printable command: the line, then (optionally) our note, then the where-tag last. */
export function annotate(line: string, opts: { where?: Where; note?: Note } = {}): string {
  const tail = [opts.note ? `# ${opts.note.text}` : null, opts.where ? WHERE_TAGS[opts.where] : null].filter((t): t is string => t !== null);
  return tail.length ? `${line}  ${tail.join('  ')}` : line;
}

/** A line that is only a comment of ours. */
export function commentLine(n: Note): string {
  return `# ${n.text}`;
}

/**
 * Reads an operator-written command line (servers.yaml `replay.launch`) as `K=V ... argv...` when it
 * is one simple command: words, single and double quotes, backslashes. Anything else (operators,
 * expansions, comments, globs, control characters) returns null, and callers run the line through
 * `sh -c` untouched instead of re-writing it.
 */
export function parseSimpleCommand(line: string): { env: Record<string, string>; argv: string[] } | null {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return null;
      cur += line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        const d = line[j]!;
        if (d === '$' || d === '`') return null;
        if (d === '\\' && /["\\$`]/.test(line[j + 1] ?? '')) j++;
        cur += line[j];
      }
      if (j >= line.length) return null;
      i = j;
    } else if (c === '\\') {
      const next = line[i + 1];
      if (next === undefined || next === '\n') return null;
      cur += next;
      i++;
    } else if (/[A-Za-z0-9_./:=@%+,~^-]/.test(c)) {
      if (c === '~' && cur === '') return null;
      cur += c;
    } else {
      return null;
    }
  }
  if (inWord) words.push(cur);
  if (/[\x00-\x1f\x7f]/.test(words.join(''))) return null;
  const env: Record<string, string> = {};
  let k = 0;
  for (; k < words.length; k++) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(words[k]!);
    if (!m) break;
    env[m[1]!] = m[2]!;
  }
  const argv = words.slice(k);
  return argv.length ? { env, argv } : null;
}
