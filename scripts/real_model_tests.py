"""Will the real-model tests (tests/test_llm_real.py) run? scripts/test.sh asks before building
llama-cpp-python from source (minutes), which only those tests need.

Collects that module as the test run will (tests/conftest.py's rule for the shared material, and the
pytest arguments given, e.g. -m "not slow"), without running anything, and says what it found.
Exit 0: at least one of them will run (build it). Exit 1: none will, each line says why (skip the build;
the test run reports those tests as skipped with the same reason). Any other exit: the collection itself
failed (build, to be safe).

Usage: python scripts/real_model_tests.py [PYTEST ARGS...]
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "tests" / "test_llm_real.py"
sys.path.insert(0, str(ROOT))  # as `python -m pytest` run from the root has it: tests import tests.conftest


class _Items:
    def __init__(self) -> None:
        self.items: list[pytest.Item] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # After every pytest_collection_modifyitems: the skip rule's markers and the deselection are in.
        self.items = [item for item in session.items if Path(item.path) == MODULE]


def main(args: list[str]) -> int:
    found = _Items()
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
                            str(MODULE), *args], plugins=[found])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        print(f"could not collect {MODULE.relative_to(ROOT)} (pytest exit {int(code)}):\n"
              + output.getvalue()[-2000:], file=sys.stderr)
        return 2
    runnable = [item for item in found.items if item.get_closest_marker("skip") is None]
    if runnable:
        print(f"{len(runnable)} of the real-model tests will run")
        return 0
    if not found.items:
        print("the real-model tests will not run: deselected by the arguments given")
    for reason in sorted({item.get_closest_marker("skip").kwargs.get("reason", "") for item in found.items}):
        print(f"the real-model tests will be skipped: {reason}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
