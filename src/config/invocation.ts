import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/**
 * How printed `triage` commands start where they are printed: `['triage']` when a `triage` is on PATH,
 * else `['npx', '--no', 'triage']` (run from the checkout; `--no` so npx never fetches some other package
 * called "triage"), and the `--servers FILE` the user gave, so a printed command resolves the same names.
 */
export interface Invocation {
  triage: readonly string[];
  serversFile?: string;
}

/**
 * How a command printed for people should start `triage` on this machine: `triage` when one is on
 * PATH, else `npx --no triage` (the checkout's own bin; `--no` so npx never installs some other
 * package of that name). `--servers FILE` is kept, made absolute, when the user gave it.
 */
export function detectInvocation(env: Record<string, string | undefined>, cwd: string, serversFlag: string | undefined): Invocation {
  const triage = onPath('triage', env.PATH) ? ['triage'] : ['npx', '--no', 'triage'];
  return serversFlag ? { triage, serversFile: path.resolve(cwd, serversFlag) } : { triage };
}

function onPath(name: string, pathEnv: string | undefined): boolean {
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}
