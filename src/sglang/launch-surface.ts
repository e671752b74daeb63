/**
 * The `sglang.launch_server` flags and environment variables that our printed commands use, each
 * checked against SGLang's source (`lab/sglang-launch-surface/extract.py` reads it with `git show`).
 * A test extracts every `--flag` and `NAME=value` from every command the rules can print and fails
 * on any name missing here. Add a name only after reading it in SGLang's current source.
 */

export const SGLANG_SOURCE = {
  repo: 'github:froststeam/sglang (mirror of sgl-project/sglang)',
  commit: '382343f860c7df8dc43ecefd7902c940d81c99a9',
  date: '2026-08-22',
} as const;

export interface LaunchFlag {
  /** The ServerArgs field the flag sets (server_args.py; `tp_size` → `--tp-size`). */
  field: string;
  /** A flag that is followed by a value (`--port 30000`), not a switch. */
  takesValue: boolean;
}

/** Accepted by `python -m sglang.launch_server` (python/sglang/srt/server_args.py, add_cli_args_from_dataclass). */
export const LAUNCH_FLAGS: Readonly<Record<string, LaunchFlag>> = {
  '--mem-fraction-static': { field: 'mem_fraction_static', takesValue: true },
  '--max-total-tokens': { field: 'max_total_tokens', takesValue: true },
  '--max-running-requests': { field: 'max_running_requests', takesValue: true },
  '--chunked-prefill-size': { field: 'chunked_prefill_size', takesValue: true },
  '--schedule-conservativeness': { field: 'schedule_conservativeness', takesValue: true },
  // `--cuda-graph-max-bs` is a DeprecatedAliasStoreAction for this one (server_args.py add_cli_args).
  '--cuda-graph-max-bs-decode': { field: 'cuda_graph_max_bs_decode', takesValue: true },
  '--cuda-graph-max-bs-prefill': { field: 'cuda_graph_max_bs_prefill', takesValue: true },
  '--dp-size': { field: 'dp_size', takesValue: true },
  '--tp-size': { field: 'tp_size', takesValue: true },
  '--port': { field: 'port', takesValue: true },
  '--model-path': { field: 'model_path', takesValue: true },
  '--crash-dump-folder': { field: 'crash_dump_folder', takesValue: true },
};

/**
 * Flags SGLang rejects or only tolerates: never print them. `--debug-mode` does not exist ("unrecognized
 * arguments"); the others are Deprecated* actions in server_args.py add_cli_args.
 */
export const REJECTED_FLAGS: Readonly<Record<string, string>> = {
  '--debug-mode': 'not a ServerArgs field: argparse answers "unrecognized arguments"',
  '--cuda-graph-max-bs': 'deprecated alias of --cuda-graph-max-bs-decode',
  '--disable-cuda-graph': 'deprecated: use --cuda-graph-backend-decode/--cuda-graph-backend-prefill disabled',
  '--tp': 'not a flag: the field is tp_size (--tp-size, alias --tensor-parallel-size)',
};

export type EnvReader = 'sglang' | 'nccl' | 'cuda-driver';
export interface EnvVar {
  readBy: EnvReader;
  /** Where it is read (SGLang file) or documented (NVIDIA), and what a value means. */
  source: string;
}

export const ENV_VARS: Readonly<Record<string, EnvVar>> = {
  // python/sglang/kernels/kernel_api_logging.py: _get_env(...); LOGDEST and DUMP_DIR replace "%i" by the pid.
  SGLANG_KERNEL_API_LOGLEVEL: { readBy: 'sglang', source: 'python/sglang/kernels/kernel_api_logging.py (0 off, 1 names, 3 inputs, 5 statistics, 10 crash-safe input dumps)' },
  SGLANG_KERNEL_API_LOGDEST: { readBy: 'sglang', source: 'python/sglang/kernels/kernel_api_logging.py (_str_with_pid: "%i" becomes the pid, one file per rank process)' },
  SGLANG_KERNEL_API_DUMP_DIR: { readBy: 'sglang', source: 'python/sglang/kernels/kernel_api_logging.py (_str_with_pid)' },
  // python/sglang/srt/environ.py "Crash diagnostics"; SGLANG_CUDA_COREDUMP=1 imports debug_utils/cuda_coredump.py, which injects CUDA_* vars.
  SGLANG_CUDA_COREDUMP: { readBy: 'sglang', source: 'python/sglang/srt/environ.py' },
  SGLANG_CUDA_COREDUMP_DIR: { readBy: 'sglang', source: 'python/sglang/srt/environ.py (default /tmp/sglang_cuda_coredumps, debug_utils/cuda_coredump.py)' },
  // NCCL's own (docs.nvidia.com/deeplearning/nccl/user-guide/docs/env.html); SGLang's debug-distributed-hang skill sets the first two.
  NCCL_DEBUG: { readBy: 'nccl', source: 'NCCL env.html#nccl-debug; .claude/skills/debug-distributed-hang/SKILL.md' },
  NCCL_DEBUG_SUBSYS: { readBy: 'nccl', source: 'NCCL env.html#nccl-debug-subsys; .claude/skills/debug-distributed-hang/SKILL.md' },
  NCCL_DEBUG_FILE: { readBy: 'nccl', source: 'NCCL env.html#nccl-debug-file (%h host, %p pid)' },
  // The CUDA driver's (cuda-gdb docs "GPU core dump support"); SGLang sets the same names in server_args.py and debug_utils/cuda_coredump.py.
  CUDA_ENABLE_USER_TRIGGERED_COREDUMP: { readBy: 'cuda-driver', source: 'cuda-gdb docs; python/sglang/srt/utils/cudacore_pyspy_dump_utils.py' },
  CUDA_COREDUMP_PIPE: { readBy: 'cuda-driver', source: 'cuda-gdb docs; python/sglang/srt/utils/cudacore_pyspy_dump_utils.py' },
  CUDA_COREDUMP_FILE: { readBy: 'cuda-driver', source: 'cuda-gdb docs (%h host, %p pid, %t time); python/sglang/srt/server_args.py' },
  CUDA_COREDUMP_SHOW_PROGRESS: { readBy: 'cuda-driver', source: 'cuda-gdb docs; python/sglang/srt/debug_utils/cuda_coredump.py' },
  CUDA_COREDUMP_GENERATION_FLAGS: { readBy: 'cuda-driver', source: 'cuda-gdb docs; python/sglang/srt/debug_utils/cuda_coredump.py' },
};

/** JSON fields of POST /configure_logging (ConfigureLoggingReq, python/sglang/srt/managers/io_struct.py). */
export const CONFIGURE_LOGGING_FIELDS = [
  'log_requests',
  'log_requests_level',
  'log_requests_format',
  'log_level',
  'dump_requests_folder',
  'dump_requests_threshold',
  'crash_dump_folder',
  'dump_requests_exclude_meta_keys',
] as const;

/** JSON fields of POST /start_profile that we send (ProfileReq, python/sglang/srt/managers/io_struct.py). */
export const START_PROFILE_FIELDS = ['output_dir', 'num_steps', 'activities', 'record_shapes'] as const;
