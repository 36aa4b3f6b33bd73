#!/usr/bin/env bash
# One GPU check: builds the CUDA backend here (a machine with nvcc, no GPU needed), then runs every `gpu` test and the
# GPU benchmark on the lent GPU machine and writes their JSON to $OUT.
#
# The GPU machine has nvcc, CMake and ninja but none of tune.cpp's Debian dependencies (OpenBLAS, yaml-cpp,
# sentencepiece, GoogleTest, ...) and no network, so the project cannot be configured there. Instead `prepare` builds
# the gpu test executables and bench/gpu_ops_bench here; they are linked with --as-needed and a static CUDA runtime
# and need only cuBLAS/cuBLASLt 13 (there with nvcc 13.0) and the C/C++ runtime (plus libgomp, which is copied
# along). `prepare` puts them, the libraries the GPU machine may lack and the HF+PEFT baseline scripts into .gpu/
# (git-ignored), which the device call carries. The executables run there directly (ctest's files name this
# machine's paths); each test binary writes gtest JSON, merged into one file.
#
# Step 1, here (about 3 minutes on 2 cores from a clean tree; reuses $TUNE_BUILD_DIR, default build/):
#   tools/gpu_check.sh prepare
# Step 2, the device tool's `run` (about 1-2 minutes of GPU time plus the machine's start; 600 s leaves room):
#   run(command="bash tools/gpu_check.sh device", carry=[".gpu"], timeout_s=600)
#   Per binary 45 s and the bench 240 s at most, so a hang still returns the log within 600 s. SANITIZE=1 before
#   `bash` adds a compute-sanitizer memcheck of the op tests (Firecracker machines only; up to 6 more minutes, so
#   with a timeout_s to match, or as a second call once the first has passed).
#   Back in $OUT: gpu_check.log (everything printed), gpu_tests.json (all gtest results), gpu_ops_bench.jsonl,
#   env.txt (GPU, driver, toolchain, library resolution) and summary.json; the last lines printed are a summary.
# Optional step 3, only when device time is left (about 5-9 minutes; their H200 results of 2026-11-26 are already in
# /work/shared/bench/results): the HF+PEFT baselines on the same card, hf_baseline.json and hf_rm_baseline.json:
#   run(command="bash tools/gpu_check.sh hf", carry=[".gpu"], timeout_s=600)
set -uo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"

prepare() {
  set -e
  local build="${TUNE_BUILD_DIR:-build}"
  cmake -S . -B "$build" -G Ninja -DTUNE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-90}" >/dev/null
  local tests
  tests=$(cd tests/gpu && ls test_*.cpp | sed 's/\.cpp$//')
  ninja -C "$build" -j"${JOBS:-2}" $tests gpu_ops_bench
  # Without a GPU every device test must skip (not fail): the same check CI makes.
  ctest --test-dir "$build" -L gpu -j2 --output-on-failure >"$build/gpu_ctest.log" || { cat "$build/gpu_ctest.log"; exit 1; }
  grep -E "tests passed" "$build/gpu_ctest.log"
  rm -rf .gpu
  mkdir -p .gpu/bin .gpu/lib .gpu/hf
  for t in $tests; do cp "$build/tests/$t" .gpu/bin/; done
  cp "$build/gpu_ops_bench" .gpu/bin/
  strip .gpu/bin/*
  # Shared libraries beyond glibc, libstdc++/libgcc and CUDA's own, which the GPU machine's image may lack.
  local system='/(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|libcuda|libcudart|libcublas[^/]*)\.so'
  ldd .gpu/bin/* | awk '/=> \//{print $3}' | sort -u | { grep -Ev "$system" || true; } | xargs -r -I{} cp -L {} .gpu/lib/
  local hf
  for hf in shared/bench ../shared/bench /work/shared/bench; do
    if [ -d "$hf" ]; then
      cp "$hf"/*.py .gpu/hf/
      break
    fi
  done
  {
    echo "git $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tests bench || echo '+dirty')"
    echo "built $(date -u +%FT%TZ) on $(uname -m), $(/usr/local/cuda/bin/nvcc --version | tail -1)"
    echo "cuda archs ${CUDA_ARCHS:-90}"
    ls -1 .gpu/bin .gpu/lib .gpu/hf
  } >.gpu/manifest.txt
  du -sh .gpu
  echo "next: run(command=\"bash tools/gpu_check.sh device\", carry=[\".gpu\"], timeout_s=600)"
}

# For each library the loader cannot find (e.g. libcublas.so.13 outside the default paths), prepends the folder of
# the first copy found under /usr/local, /opt or /usr/lib (PyTorch's pip wheels carry CUDA 13 libraries too).
find_missing_libs() {
  local lib dir
  for lib in $(ldd .gpu/bin/* 2>/dev/null | awk '/not found/{print $1}' | sort -u); do
    dir=$(dirname "$(find /usr/local /opt /usr/lib -name "$lib" 2>/dev/null | head -1)")
    [ "$dir" != . ] && export LD_LIBRARY_PATH="$dir:$LD_LIBRARY_PATH" && echo "found $lib in $dir"
  done
}

device() {
  local out="$1" root="$PWD" scratch
  scratch=$(mktemp -d)
  [ -d .gpu/bin ] || { echo "no .gpu/bin: run 'tools/gpu_check.sh prepare' first and carry .gpu"; return 2; }
  export LD_LIBRARY_PATH="$root/.gpu/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
  find_missing_libs
  {
    cat .gpu/manifest.txt
    nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.sm,clocks.max.sm --format=csv 2>&1
    echo "kernel $(uname -r); $(ldd --version | head -1)"
    command -v nvcc >/dev/null && nvcc --version | tail -1
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
    ldd .gpu/bin/test_gpu_gemm .gpu/bin/test_gpu_train_ops .gpu/bin/gpu_ops_bench
  } >"$out/env.txt" 2>&1
  cat "$out/env.txt"
  if ldd .gpu/bin/* | grep -q 'not found'; then
    echo "MISSING LIBRARIES (see env.txt): the binaries below cannot start"
  fi

  echo "== gpu tests =="
  local t name rc status=0
  for t in .gpu/bin/test_gpu_*; do
    name=$(basename "$t")
    timeout 45 "$t" --gtest_output="json:$scratch/$name.json" --gtest_color=no
    rc=$?
    echo "$rc" >"$scratch/$name.rc"
    [ "$rc" -eq 0 ] || status=1
  done
  if [ "${SANITIZE:-0}" = 1 ] && command -v compute-sanitizer >/dev/null; then
    echo "== compute-sanitizer memcheck (op tests) =="
    for name in test_gpu_layer_ops test_gpu_attention test_gpu_heads; do
      timeout 120 compute-sanitizer --tool memcheck --error-exitcode 7 ".gpu/bin/$name" --gtest_brief=1
      echo "memcheck $name rc=$?"
    done
  fi

  echo "== gpu_ops_bench =="
  timeout 240 .gpu/bin/gpu_ops_bench | tee "$out/gpu_ops_bench.jsonl"
  local bench_rc=${PIPESTATUS[0]}
  [ "$bench_rc" -eq 0 ] || status=1

  python3 - "$scratch" "$out" "$bench_rc" <<'PY'
import glob, json, os, sys
scratch, out, bench_rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
merged, rows = {}, []
for rc_file in sorted(glob.glob(os.path.join(scratch, "*.rc"))):
    name = os.path.basename(rc_file)[:-3]
    rc = open(rc_file).read().strip()
    try:
        d = json.load(open(os.path.join(scratch, name + ".json")))
    except Exception:
        rows.append((name, f"no gtest JSON (exit code {rc}: crashed, timed out or could not start)", "")); continue
    merged[name] = d
    cases = [c for s in d.get("testsuites", []) for c in s.get("testsuite", [])]
    failed = [c["classname"] + "." + c["name"] for c in cases if c.get("failures")]
    skipped = [c for c in cases if c.get("result") == "SKIPPED"]
    rows.append((name, f"{len(cases) - len(failed) - len(skipped)} ok, {len(failed)} failed, {len(skipped)} skipped"
                 f" (exit {rc})", " ".join(failed)[:300]))
json.dump(merged, open(os.path.join(out, "gpu_tests.json"), "w"), indent=1)
bench = []
path = os.path.join(out, "gpu_ops_bench.jsonl")
for line in (open(path) if os.path.exists(path) else []):
    try: bench.append(json.loads(line))
    except Exception: pass
json.dump({"tests": {r[0]: r[1] for r in rows}, "failed": {r[0]: r[2] for r in rows if r[2]},
           "bench_rc": bench_rc, "bench_lines": len(bench)},
          open(os.path.join(out, "summary.json"), "w"), indent=1)
print("\n== summary ==")
for r in rows: print(f"{r[0]:24s} {r[1]}  {r[2]}")
for b in bench:
    if b.get("bench") == "gemm" and b.get("case") in ("square_8192", "gate_up_fwd", "down_bwd_input"):
        print(f"gemm {b['case']:16s} {b['dtype']:5s} {b['tflops']:8.1f} TFLOP/s")
    elif b.get("bench") == "d2d_copy":
        print(f"d2d copy {b['gb_per_s']:.0f} GB/s")
    elif b.get("bench") == "kernel":
        case = b["case"] + (f"/chunk{b['chunk_rows']}" if "chunk_rows" in b else "")
        print(f"{case:32s} {b['ms']:9.3f} ms")
print(f"bench exit code {bench_rc}")
PY
  rm -rf "$scratch"
  return $status
}

# The HF+PEFT baselines (LLaMA-Factory's engine) on the same card: hf_baseline.json and hf_rm_baseline.json in $OUT.
hf() {
  local out="$1" root="$PWD"
  [ -f .gpu/hf/hf_baseline.py ] || { echo "no .gpu/hf: run 'tools/gpu_check.sh prepare' first and carry .gpu"; return 2; }
  (cd "$out" && PYTHONUNBUFFERED=1 OUT="$out" timeout 330 python3 "$root/.gpu/hf/hf_baseline.py")
  (cd "$out" && PYTHONUNBUFFERED=1 OUT="$out" timeout 220 python3 "$root/.gpu/hf/hf_rm_baseline.py")
}

case "$mode" in
  prepare) prepare ;;
  device)
    out="${OUT:-$PWD/gpu-out}"
    mkdir -p "$out"
    device "$out" 2>&1 | tee "$out/gpu_check.log"
    exit "${PIPESTATUS[0]}"
    ;;
  hf)
    out="${OUT:-$PWD/gpu-out}"
    mkdir -p "$out"
    hf "$out" 2>&1 | tee "$out/hf_check.log"
    exit "${PIPESTATUS[0]}"
    ;;
  *) echo "usage: tools/gpu_check.sh prepare | device | hf   (see the header of this script)"; exit 2 ;;
esac
