"""Work done in a second process beside the main one, so that a run uses both cores of a laptop.

The figures' PNG and PDF files and the Word edition do not depend on the PDF layout, which is the
longest step of a run; each is written by a forked copy of the running process (no second start-up and
no second import of the libraries) while the main process lays out the PDF. A failure in the child
reaches the parent as the same PipelineError message when the parent waits for it.
"""

from __future__ import annotations

import multiprocessing
import traceback
from typing import Callable

from pipeline.core.errors import PipelineError


def _child(work: Callable[[], object], sender) -> None:
    import signal
    # The parent owns the run: Ctrl-C and SIGTERM are its to handle (it ends the child), and the child
    # must not run the parent's SIGTERM handler, which removes the staging folder.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _end_with_parent()
    try:
        sender.send(("ok", work()))
    except PipelineError as exc:
        sender.send(("error", str(exc)))
    except BaseException as exc:   # noqa: BLE001 - the parent turns it into one message
        sender.send(("crash", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"))
    finally:
        sender.close()


def _end_with_parent() -> None:
    """Linux: the child gets SIGTERM when the parent dies, so a killed run leaves no process behind."""
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Job:
    """`work()` run in a forked child; `wait()` gives what it returned or raises its error."""

    def __init__(self, work: Callable[[], object], *, what: str):
        self.what = what
        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        self._receiver = receiver
        self._process = context.Process(target=_child, args=(work, sender), daemon=True)
        self._process.start()
        sender.close()
        self._outcome = None

    def wait(self):
        if self._outcome is None:
            try:
                outcome = self._receiver.recv()
            except EOFError:   # the child died without a word (killed, or out of memory)
                outcome = None
            self._process.join()
            self._receiver.close()
            if outcome is None:
                outcome = ("error", f"{self.what} stopped without finishing (exit status {self._process.exitcode}); "
                                    "run again, and report it if it happens again.")
            self._outcome = outcome
        kind, value = self._outcome
        if kind == "ok":
            return value
        if kind == "crash":
            raise PipelineError(f"{self.what} failed: {value.splitlines()[0]}; report this with run.log.")
        raise PipelineError(value)

    def stop(self) -> None:
        """End the child if it still runs (the run failed or was interrupted)."""
        if self._outcome is None and self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receiver.close()
        self._outcome = self._outcome or ("error", f"{self.what} was stopped.")


def wait_all(jobs: list[Job]) -> list[object]:
    """Wait for every job (so none is left running), then raise the first error."""
    results, error = [], None
    for job in jobs:
        try:
            results.append(job.wait())
        except PipelineError as exc:
            error = error or exc
            results.append(None)
    if error:
        raise error
    return results
