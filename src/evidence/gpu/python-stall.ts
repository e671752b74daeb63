import { collectiveFromName } from './kernel-names.js';
import type { PyFrame, PyThreadStack } from './python-stacks-parse.js';

/**
 * Where a scheduler thread is stuck, read from its stack. SGLang's scheduler loops are
 * `event_loop_overlap` / `event_loop_normal` (and PP/disagg variants); a hang shows the main thread in
 * a collective wrapper, in NCCL, in a device synchronize inside `process_batch_result*`, or idle in
 * `recv_requests` while its peers wait.
 */
export type StallKind = 'collective' | 'device-sync' | 'idle' | 'busy' | 'unknown';

export interface StallPoint {
  kind: StallKind;
  /** The frame that decided the kind, e.g. "synchronize (torch/cuda/streams.py:254)". */
  frame?: string;
  /** NCCL collective name when kind is collective. */
  collective?: string;
  /** Scheduler loop the thread runs in (event_loop_overlap …). */
  schedulerLoop?: string;
  /** SGLang scheduler step on the stack (process_batch_result_prefill, run_batch …). */
  schedulerStep?: string;
  /** Innermost named frames, for the report: "synchronize ← process_batch_result_prefill ← …". */
  chain: string[];
}

const COLLECTIVE_FRAME = /^(all_gather\w*|all_reduce\w*|reduce_scatter\w*|all_to_all\w*|alltoall\w*|broadcast\w*|barrier|_all_gather_base|_reduce_scatter_base|all_gather_into_tensor|tensor_model_parallel_\w+|\w*all_reduce|\w*all_gather|nccl\w+|ncclGroupEnd|ncclAllGather|ncclAllReduce|c10d::\S+)$/i;
const DEVICE_SYNC_FRAME = /^(synchronize|cuEventSynchronize|cudaEventSynchronize|cuStreamSynchronize|cudaStreamSynchronize|cuCtxSynchronize|cudaDeviceSynchronize|THCPEvent_synchronize|THCPStream_synchronize|THCPModule_cudaSynchronize|cuMemcpyDtoH\w*|_local_scalar_dense\w*|wait_event|wait_stream|item|tolist)$/;
const IDLE_FRAME = /^(recv_requests|recv_pyobj|recv_multipart|recv|poll|select|epoll_wait|epoll_pwait|sleep|clock_nanosleep|nanosleep|wait|_wait_for_tstate_lock|acquire|get|run_forever|_run_once|accept|futex_wait|pthread_cond_wait|pthread_cond_timedwait|PyThread_acquire_lock_timed|sem_wait)$/;
const SCHEDULER_LOOP = /^(event_loop_overlap\w*|event_loop_normal\w*|event_loop_pp\w*|event_loop_\w+|run_scheduler_process)$/;
const SCHEDULER_STEP = /^(process_batch_result\w*|run_batch|forward_batch_generation|forward_extend|forward_decode|get_next_batch_to_run|recv_requests|process_input_requests|sample|update_running_batch)$/;

function frameName(f: PyFrame): string {
  // Native C++ names: keep the last component without parameters.
  return f.function.replace(/\(.*$/, '').split('::').pop()!.trim() || f.function;
}

function frameLabel(f: PyFrame): string {
  if (!f.file) return f.function;
  const shortFile = f.file.split('/').slice(-3).join('/');
  return `${f.function} (${shortFile}${f.line !== undefined ? `:${f.line}` : ''})`;
}

export function stallPointOf(thread: PyThreadStack): StallPoint {
  const named = thread.frames.filter((f) => !/^0x[0-9a-f]+$/i.test(f.function));
  const chain = named.filter((f) => !f.native).slice(0, 6).map((f) => frameName(f));
  const point: StallPoint = { kind: 'unknown', chain: chain.length ? chain : named.slice(0, 6).map(frameName) };
  const loop = named.find((f) => SCHEDULER_LOOP.test(frameName(f)));
  if (loop) point.schedulerLoop = frameName(loop);
  const step = named.find((f) => SCHEDULER_STEP.test(frameName(f)));
  if (step) point.schedulerStep = frameName(step);

  // Look at the innermost frames: the deepest match decides (a collective wrapper that then syncs
  // on the GPU is still a collective stall).
  const window = named.slice(0, 12);
  const collective = window.find((f) => COLLECTIVE_FRAME.test(frameName(f)) && !/^c10d::\S*(Watchdog|Heartbeat)/.test(f.function));
  // Non-zero TP ranks wait for new requests inside recv_requests → broadcast_pyobj: that is idle.
  const waitingForRequests = collective && /broadcast/i.test(frameName(collective)) && named.some((f) => frameName(f) === 'recv_requests');
  if (collective && !waitingForRequests) {
    point.kind = 'collective';
    point.frame = frameLabel(collective);
    const name = collectiveFromName(frameName(collective));
    if (name) point.collective = name;
    return point;
  }
  const sync = window.find((f) => DEVICE_SYNC_FRAME.test(frameName(f)));
  if (sync) {
    point.kind = 'device-sync';
    point.frame = frameLabel(sync);
    return point;
  }
  const top = named[0];
  // Innermost frame is the scheduler loop itself: it sits in a builtin (sleep, poll) between steps.
  const betweenSteps = top !== undefined && thread.status !== 'active' && SCHEDULER_LOOP.test(frameName(top));
  if (waitingForRequests || betweenSteps || thread.status === 'idle' || (top && IDLE_FRAME.test(frameName(top)))) {
    point.kind = 'idle';
    if (top) point.frame = frameLabel(top);
    return point;
  }
  if (thread.status === 'active' && top) {
    point.kind = 'busy';
    point.frame = frameLabel(top);
  }
  return point;
}
