"""Getting the app ready without holding up the page: first-start indexing and model warm-up in the background.

The page is served at once; `Readiness.start()` runs `Assistant.ensure_samples` (the bundled samples, on
first start) and `Assistant.warm_up` (the answerer's models) in a daemon thread. Until both are done the page
shows a "getting ready" note (`note()`), and a question asked meanwhile waits for them (`wait()`). A failure
is kept and shown as the note, and questions are then refused with it. It does not import Gradio.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

from assistant.errors import AssistantError, IndexingError

GETTING_READY = ("Getting ready: indexing the bundled articles and loading the answer models. You can type a "
                 "question now; it is answered as soon as this is done.")


class Readiness:
    """Whether the first question can be answered yet. `Readiness.ready()` is one that already is."""

    def __init__(self, steps: list[tuple[str, Callable[[], object]]] | None = None) -> None:
        self._steps = list(steps or [])
        self._done = threading.Event()
        self.error = ""
        self.seconds = 0.0
        if not self._steps:
            self._done.set()

    @classmethod
    def ready(cls) -> Readiness:
        return cls()

    @classmethod
    def for_assistant(cls, assistant) -> Readiness:
        def samples() -> None:
            summary = assistant.ensure_samples()
            if summary:
                print(f"indexed the bundled samples: {summary.line()}", flush=True)

        return cls([("indexing the bundled samples", samples), ("loading the answer models", assistant.warm_up)])

    def start(self) -> Readiness:
        if not self._done.is_set():
            threading.Thread(target=self._run, name="getting-ready", daemon=True).start()
        return self

    def _run(self) -> None:
        started = time.perf_counter()
        try:  # Linux: a thread's own niceness, inherited by the threads it starts (PyTorch's): serve pages first
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except (AttributeError, OSError):
            pass
        try:
            for what, step in self._steps:
                try:
                    step()
                except (AssistantError, IndexingError) as exc:
                    self.error = f"{what} failed: {exc}"
                except Exception as exc:  # noqa: BLE001 - a bug: say so on the page instead of waiting forever
                    self.error = f"{what} failed: {type(exc).__name__}: {exc}"
                    print(f"error: {self.error}", file=sys.stderr, flush=True)
                    return
        finally:
            self.seconds = time.perf_counter() - started
            if not self.error:
                print(f"ready to answer after {self.seconds:.1f} s", flush=True)
            self._done.set()

    @property
    def is_ready(self) -> bool:
        return self._done.is_set() and not self.error

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ready (True) or failed/timed out (False)."""
        return self._done.wait(timeout) and not self.error

    def note(self) -> str:
        """The line the page shows: empty once ready."""
        if self.error:
            return f"The assistant could not get ready: {self.error}"
        return "" if self._done.is_set() else GETTING_READY
