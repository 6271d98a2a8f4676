"""Work done in a second process beside the main one, so that a run uses both cores of a laptop.

The PDF layout, the longest step of a run, and the figures' PNG and PDF files are each written by a
second process while the main one goes on with the Word edition. A failure in the child reaches the
parent as the same PipelineError message when the parent waits for it.

How the second process starts is chosen in one place, start_method():
- fork (a copy of the running process: no second start-up, and work that is a closure over the run's
  figures) where it is safe: Linux, while the process has a single thread. Python 3.12 and later warn
  about a fork with threads running, and libraries' threads (pyarrow, BLAS) make it unsafe.
- forkserver (Linux, macOS) or spawn (Windows): a fresh interpreter, for work that can be pickled (the
  PDF layout: a function of the HTML text); the libraries are imported there once more.
- inline: the same work in order in the main process, for work that cannot be pickled where fork is not
  safe, and wherever WSD_BACKGROUND=inline asks for it.
WSD_BACKGROUND=fork|forkserver|spawn|inline forces one (the tests compare their outputs byte for byte).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import threading
import traceback
from typing import Callable

from pipeline.core.errors import PipelineError


def _child(work: Callable[[], object] | None, sender, work_receiver=None) -> None:
    """The second process: runs `work` (or the work read from `work_receiver`) and sends back its outcome."""
    import signal
    # The parent owns the run: Ctrl-C and SIGTERM are its to handle (it ends the child), and the child
    # must not run the parent's SIGTERM handler, which removes the staging folder.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _end_with_parent()
    if work_receiver is not None:
        try:
            work = work_receiver.recv()
        except (EOFError, OSError, pickle.UnpicklingError):
            os._exit(1)   # the parent stopped while sending it: it no longer waits, and there is nothing to say
        finally:
            work_receiver.close()
    outcome = _outcome_of(work)
    try:
        sender.send(outcome)
    except OSError:   # the parent stopped and closed its end: nobody waits for the outcome
        os._exit(1)
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


START_METHODS = ("fork", "forkserver", "spawn", "inline")


def _single_threaded() -> bool:
    """Whether the process has one thread, counting the threads of libraries (Linux: /proc/self/task)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1 and sys.platform.startswith("linux")


def start_method(work: Callable[[], object] | None = None) -> str:
    """How the second process for `work` starts (see the module's docstring); without `work`, for work that
    cannot be pickled (a closure)."""
    available = multiprocessing.get_all_start_methods()
    forced = os.environ.get("WSD_BACKGROUND", "").strip().lower()
    if forced:
        if forced not in START_METHODS:
            raise PipelineError(f"WSD_BACKGROUND={forced!r}: choose one of {', '.join(START_METHODS)}.")
        if forced != "inline" and forced not in available:
            raise PipelineError(f"WSD_BACKGROUND={forced}: this system cannot start a process that way; "
                                f"choose one of {', '.join(m for m in START_METHODS if m in available or m == 'inline')}.")
        method = forced
    elif sys.platform.startswith("linux") and "fork" in available and _single_threaded():
        method = "fork"
    else:
        method = "forkserver" if "forkserver" in available else "spawn"
    if method in ("forkserver", "spawn") and (work is None or not _picklable(work)):
        return "inline"
    return method


def _picklable(work) -> bool:
    try:
        pickle.dumps(work)
    except Exception:   # noqa: BLE001 - closures, lambdas and what they hold cannot be sent
        return False
    return True


def _outcome_of(work: Callable[[], object]) -> tuple[str, object]:
    try:
        return "ok", work()
    except PipelineError as exc:
        return "error", str(exc)
    except Exception as exc:   # noqa: BLE001 - the caller turns it into one message, as from a child
        return "crash", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"


class Job:
    """`work()` run in a second process (or in order, inline); `wait()` gives what it returned or raises its
    error."""

    def __init__(self, work: Callable[[], object], *, what: str):
        self.what = what
        self.method = start_method(work)
        self._process = None
        self._outcome = None
        if self.method == "inline":
            self._outcome = _outcome_of(work)
            return
        context = multiprocessing.get_context(self.method)
        receiver, sender = context.Pipe(duplex=False)
        self._receiver = receiver
        if self.method == "fork":
            self._process = context.Process(target=_child, args=(work, sender), daemon=True)
            self._process.start()
        else:
            # A fresh interpreter gets the work through a pipe of its own after it started, not with its
            # start-up data: a run stopped while the (large) work is on its way then leaves the child to end
            # quietly, instead of the interpreter's own traceback about truncated start-up data.
            work_receiver, work_sender = context.Pipe(duplex=False)
            self._process = context.Process(target=_child, args=(None, sender, work_receiver), daemon=True)
            self._process.start()
            work_receiver.close()
            try:
                work_sender.send(work)
            finally:
                work_sender.close()
        sender.close()

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
        if self._process is None:   # inline: done already
            return
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
