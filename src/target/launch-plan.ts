import path from 'node:path';
import { shellQuote } from '../util/shell-quote.js';

/**
 * What a pipeline adds to the clean target's launch so that the replay leaves evidence behind.
 * Names checked against SGLang's source (froststeam/sglang 382343f, 2026-08-22):
 * - `SGLANG_CUDA_COREDUMP`, `SGLANG_CUDA_COREDUMP_DIR`: srt/environ.py:365,368; srt/debug_utils/cuda_coredump.py
 *   injects CUDA_ENABLE_COREDUMP_ON_EXCEPTION and CUDA_COREDUMP_FILE=<dir>/cuda_coredump_%h.%p.%t.
 * - `--crash-dump-folder`: srt/server_args.py `_handle_crash_dump_env` also turns CUDA coredumps on
 *   (CUDA_COREDUMP_FILE=<folder>/%h/core.cuda.%t.%p, CUDA_COREDUMP_PIPE=/tmp/corepipe.cuda.%h.%p) unless
 *   they are already set; the requests are dumped to <folder>/<host>/crash_dump_*.pkl
 *   (srt/managers/tokenizer_manager.py `dump_requests_before_crash`).
 * - `CUDA_ENABLE_USER_TRIGGERED_COREDUMP`, `CUDA_COREDUMP_PIPE`, `CUDA_COREDUMP_FILE`: the CUDA driver's
 *   (cuda-gdb docs); `NCCL_DEBUG`, `NCCL_DEBUG_SUBSYS`, `NCCL_DEBUG_FILE` (%h host, %p pid): NCCL's.
 */
export type TargetPurpose = 'crash' | 'hang' | 'slow' | 'plain';

export interface TargetLayout {
  /** The incident's replay/ folder: the target's crash dumps go under it. */
  replayDir: string;
  coredumpsDir: string;
  logsDir: string;
}

export interface LaunchPlan {
  /** The shell line that is run (`sh -c`), the registry's `launch` plus what the purpose adds. */
  command: string;
  /** Added to the target's environment. */
  env: Record<string, string>;
  /** Where the target's own crash dumps land (`--crash-dump-folder`), when the plan sets or finds one. */
  crashDumpFolder: string | null;
  /** Folders to search for the target's CUDA coredumps afterwards. */
  coredumpDirs: string[];
  /** Folder of the NCCL debug files. */
  ncclLogDir: string | null;
  /**
   * Folders that must exist before the target starts. Measured on H200: with
   * CUDA_ENABLE_USER_TRIGGERED_COREDUMP=1 the driver creates CUDA_COREDUMP_PIPE at CUDA init, and a missing
   * folder makes init fail with cudaErrorDevicesUnavailable ("busy or unavailable").
   */
  dirs: string[];
}

const CRASH_DUMP_FLAG = /(?:^|\s)--crash-dump-folder(?:=|\s+)("[^"]*"|'[^']*'|\S+)/;

export function launchPlan(launch: string, purpose: TargetPurpose, layout: TargetLayout): LaunchPlan {
  const env: Record<string, string> = {};
  let command = launch.trim();
  let crashDumpFolder: string | null = null;
  const coredumpDirs: string[] = [];
  let ncclLogDir: string | null = null;

  const given = CRASH_DUMP_FLAG.exec(command)?.[1];
  if (given) crashDumpFolder = given.replace(/^["']|["']$/g, '');

  if (purpose === 'crash' || purpose === 'hang') {
    if (!crashDumpFolder) {
      crashDumpFolder = path.join(layout.replayDir, 'crash-dumps');
      command = `${command} --crash-dump-folder ${shellQuote(crashDumpFolder)}`;
    }
    coredumpDirs.push(crashDumpFolder);
  }
  if (purpose === 'crash') {
    env.SGLANG_CUDA_COREDUMP = '1';
    env.SGLANG_CUDA_COREDUMP_DIR = path.join(layout.coredumpsDir, 'target');
    coredumpDirs.unshift(env.SGLANG_CUDA_COREDUMP_DIR);
  }
  if (purpose === 'hang') {
    env.CUDA_ENABLE_USER_TRIGGERED_COREDUMP = '1';
    env.CUDA_COREDUMP_PIPE = path.join(layout.coredumpsDir, 'corepipe.cuda.%h.%p');
    env.CUDA_COREDUMP_FILE = path.join(layout.coredumpsDir, 'core.cuda.%h.%p.%t');
    env.NCCL_DEBUG = 'INFO';
    env.NCCL_DEBUG_SUBSYS = 'COLL';
    ncclLogDir = layout.logsDir;
    env.NCCL_DEBUG_FILE = path.join(layout.logsDir, 'nccl.%h.%p.log');
    coredumpDirs.unshift(layout.coredumpsDir);
  }
  const dirs = [...new Set([...coredumpDirs, ...(ncclLogDir ? [ncclLogDir] : []), ...(purpose === 'hang' ? [layout.coredumpsDir] : [])])];
  return { command, env, crashDumpFolder, coredumpDirs: [...new Set(coredumpDirs)], ncclLogDir, dirs };
}
