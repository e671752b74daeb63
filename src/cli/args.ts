import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TriageError } from '../errors.js';
import { didYouMean } from './suggest.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `--help` / `-h` anywhere before `--`: main prints the command's help on stdout and exits 0. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
  constructor(readonly usage: string) {
    super('help requested');
  }
}

/**
 * node:util parseArgs, with our own messages: the tokens are checked first (unknown flags get a
 * "Did you mean", a missing value says which flag), so parseArgs' internal wording never reaches
 * people. Every problem is E_USAGE carrying the command's usage line.
 */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, usage: string) {
  const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  const flags = Object.keys(options).map((n) => `--${n}`);
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (token.name === 'help' || token.rawName === '-h') throw new HelpRequested(usage);
    const spec = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!spec) throw usageError(`unknown option ${token.rawName}.${didYouMean(`--${token.name}`, flags, (f) => f)}`, usage);
    if (spec.type === 'string') {
      if (token.value === undefined) throw usageError(`${token.rawName} needs a value`, usage);
      if (!token.inlineValue && token.value.startsWith('-')) {
        throw usageError(`${token.rawName} needs a value, got the flag-like "${token.value}"; to pass a value that starts with "-", write ${token.rawName}=${token.value}`, usage);
      }
    } else if (token.inlineValue) {
      throw usageError(`${token.rawName} takes no value (got "${token.value}")`, usage);
    }
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    // Only reachable if the checks above miss a case: say it plainly, keep parseArgs' text as the cause.
    throw usageError('cannot read the command line', usage, err);
  }
}

function usageError(message: string, usage: string, cause?: unknown): TriageError {
  return new TriageError('E_USAGE', `${message}\nusage: ${usage}`, cause === undefined ? {} : { cause });
}

export function numberOption(value: string | undefined, name: string, usage: string, bounds: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const bad =
    value.trim() === '' ||
    !Number.isFinite(n) ||
    (bounds.integer && !Number.isInteger(n)) ||
    (bounds.min !== undefined && n < bounds.min) ||
    (bounds.max !== undefined && n > bounds.max);
  if (bad) {
    const range = [bounds.min !== undefined ? `>= ${bounds.min}` : '', bounds.max !== undefined ? `<= ${bounds.max}` : ''].filter(Boolean).join(' and ');
    throw new TriageError('E_USAGE', `--${name} must be a ${bounds.integer ? 'whole ' : ''}number${range ? ` ${range}` : ''}, got "${value}"\nusage: ${usage}`);
  }
  return n;
}
