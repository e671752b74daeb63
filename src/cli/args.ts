import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TriageError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, with its errors turned into E_USAGE carrying the command's usage line. */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new TriageError('E_USAGE', `${(err as Error).message}\nusage: ${usage}`, { cause: err });
  }
}

export function numberOption(value: string | undefined, name: string, usage: string, bounds: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const bad =
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
