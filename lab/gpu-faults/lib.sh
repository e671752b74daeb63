# Shared by run.sh and run-extra.sh: paths, the coredump env, and `rec`, which runs one step with its own
# timeout, logs the exact command in manifest.txt and rebuilds $OUT/gpu-faults.tgz after every step.
HERE=$(pwd)
OUT=${OUT:-/tmp/gf-out}
STAGE=/tmp/gf-stage; CORES=/tmp/gf-cores; BIN=/tmp/gf-bin; export ART=/tmp/gf-art
rm -rf "$STAGE" "$CORES" "$BIN" "$ART"; mkdir -p "$STAGE" "$CORES" "$BIN" "$ART" "$OUT"
export PYTHONUNBUFFERED=1
FLAGS='skip_nonrelocated_elf_images,skip_global_memory,skip_shared_memory,skip_local_memory,skip_constbank_memory'
CGDB=$(command -v cuda-gdb || ls /usr/local/cuda*/bin/cuda-gdb 2>/dev/null | head -1)
CSAN=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
NVCC=$(command -v nvcc || ls /usr/local/cuda*/bin/nvcc 2>/dev/null | head -1)
M="$STAGE/manifest.txt"
pack() { (cd "$STAGE" && tar czf "$OUT/gpu-faults.tgz.tmp" . && mv "$OUT/gpu-faults.tgz.tmp" "$OUT/gpu-faults.tgz"); cp "$M" "$OUT/manifest.txt"; }
# rec FILE SECONDS CMD...: run CMD with stdout+stderr into $STAGE/FILE, log it in the manifest.
rec() {
  local file=$1 secs=$2; shift 2
  local t0=$SECONDS
  echo "\$ $*" >> "$M"
  timeout -k 5 "$secs" "$@" > "$STAGE/$file" 2>&1
  local rc=$?
  echo "  -> $file rc=$rc ${SECONDS}s-${t0}s=$((SECONDS - t0))s" >> "$M"
  echo "== $file rc=$rc ($((SECONDS - t0))s)"
  pack
  return 0
}
core_env() {  # name: env for an exception coredump
  echo "CUDA_ENABLE_COREDUMP_ON_EXCEPTION=1 CUDA_COREDUMP_SHOW_PROGRESS=1 CUDA_COREDUMP_GENERATION_FLAGS=$FLAGS CUDA_COREDUMP_FILE=$CORES/$1.core.%h.%p.%t"
}
gdb_core() {  # name: cuda-gdb on the newest core of that name
  local core; core=$(ls -t "$CORES"/"$1".core.* 2>/dev/null | head -1)
  echo "core for $1: ${core:-none} $( [ -n "$core" ] && stat -c %s "$core")" >> "$M"
  [ -n "$core" ] && rec "$1.cuda-gdb.txt" 150 "$CGDB" -batch -ex "set pagination off" -ex "target cudacore $core" \
    -ex where -ex "info cuda kernels" -ex 'x/12i $pc'
}

# --- a hang in its own session: start, wait for HANG-READY, stop
hang_start() {  # extra env...
  rm -f "$ART/hang.pid"
  ( env "$@" setsid python3 "$HERE/${HANG_SCRIPT:-hang_repro.py}" > "$STAGE/$HANG.stdout.txt" 2>&1 & echo $! > "$ART/hang.parent" )
  for i in $(seq 1 90); do grep -q HANG-READY "$STAGE/$HANG.stdout.txt" 2>/dev/null && [ -f "$ART/hang.pid" ] && break; sleep 1; done
  sleep 6
  HP=$(cat "$ART/hang.pid" 2>/dev/null)
  echo "$HANG: python3 $HERE/${HANG_SCRIPT:-hang_repro.py} (env $*) pid=$HP" >> "$M"
}
hang_stop() { kill -KILL -- -"$(cat "$ART/hang.parent")" 2>/dev/null; kill -KILL "$HP" 2>/dev/null; sleep 3; echo "$HANG killed" >> "$M"; pack; }
