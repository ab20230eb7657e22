#!/usr/bin/env bash
# Build the kernel in a temporary copy of the sources and run the kernel tests against it.
#
#   tools/sanitize.sh            AddressSanitizer + UndefinedBehaviorSanitizer (release -O3
#                                code; libasan preloaded into Python, leak checks off)
#   tools/sanitize.sh --debug    the FASTRNN_DEBUG=1 build (Cython bounds checks, -O0 -g)
#
# Extra arguments go to pytest (e.g. -k fuzz). The checkout, its generated src/_kernel.c
# and any installed fastrnn are left alone: everything is built under a mktemp folder,
# which is removed afterwards. Exit status: pytest's (5, no tests collected, fails).
set -euo pipefail
mode=sanitize
if [ "${1:-}" = "--debug" ]; then
  mode=debug
  shift
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/fastrnn-$mode.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cp -r "$root/setup.py" "$root/pyproject.toml" "$root/src" "$root/fastrnn" "$work/"
rm -f "$work"/fastrnn/*.so "$work"/src/_kernel.c
cd "$work"

env_run=()
if [ "$mode" = "sanitize" ]; then
  san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  CFLAGS="$san -g" LDFLAGS="$san" "$python" setup.py -q build_ext --inplace >build.log 2>&1 \
    || { cat build.log; exit 1; }
  ldd fastrnn/_kernel*.so | grep -q libasan  # the sanitizers are really linked in
  libasan="$(${CC:-gcc} -print-file-name=libasan.so)"
  env_run=(env "LD_PRELOAD=$libasan"
           "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1"
           "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
else
  FASTRNN_DEBUG=1 "$python" setup.py -q build_ext --inplace >build.log 2>&1 \
    || { cat build.log; exit 1; }
  grep -q "__Pyx_RaiseBufferIndexError" src/_kernel.c  # the checks are really compiled in
fi
echo "$mode build: $(ls "$work"/fastrnn/_kernel*.so)"

# python -m pytest puts $work (the instrumented package) first on sys.path
set +e
"${env_run[@]}" "$python" -m pytest -q -p no:cacheprovider -o addopts="" \
  "$root/tests/test_kernel.py" "$root/tests/test_reliability.py" \
  "$root/tests/test_fuzz_functional.py" "$root/tests/test_threads.py" \
  "$root/tests/test_small_batch.py" "$root/tests/test_lean_backward.py" \
  "$root/tests/test_step_helpers.py" "$root/tests/test_optimizers_sparse_schedules.py" "$@"
rc=$?
set -e
[ "$rc" -eq 5 ] && { echo "no tests collected: failing" >&2; exit 1; }
exit "$rc"
