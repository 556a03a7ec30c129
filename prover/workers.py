"""Run one job per problem in N worker processes, each with its own proof assistant.

One small interface (``WorkerPool.imap``) so that a distributed engine can replace the
local pool later. Each worker builds its state once (``init(*args)`` returns an object,
e.g. an environment plus a policy) and then runs ``job(state, item)`` per item; results
come back as they finish. A worker that dies takes only the item in flight with it: that
item is reported as an error and a fresh worker takes the next one.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, Iterator

_STATE: Any = None


def _exit_with_parent() -> None:
    """A worker whose parent died (killed run) exits too, closing its prover's stdin."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _init(init, args):
    global _STATE
    _exit_with_parent()
    _STATE = init(*args)


def _run(job, item):
    try:
        return job(_STATE, item)
    except Exception as e:  # reported per item; the worker goes on
        return {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class WorkerPool:
    def __init__(self, workers: int, init: Callable, init_args: tuple = ()):
        self.workers = max(1, workers)
        self.init, self.init_args = init, init_args

    def imap(self, job: Callable, items: Iterable) -> Iterator[tuple[Any, Any]]:
        """Yield ``(item, result)`` as jobs finish (in completion order)."""
        items = list(items)
        if self.workers == 1:
            state = self.init(*self.init_args)
            try:
                for it in items:
                    try:
                        yield it, job(state, it)
                    except Exception as e:
                        yield it, {"error": f"{type(e).__name__}: {e}"}
            finally:
                close = getattr(state, "close", None)
                if close:
                    close()
            return
        pending = list(items)
        ctx = mp.get_context("spawn")
        while pending:
            with ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init,
                                     initargs=(self.init, self.init_args)) as ex:
                futs = {ex.submit(_run, job, it): it for it in pending}
                pending = []
                broken = False
                for f in as_completed(futs):
                    it = futs[f]
                    try:
                        yield it, f.result()
                    except BrokenProcessPool as e:
                        if not broken:
                            broken = True
                            yield it, {"error": f"worker died: {e}"}
                        else:
                            pending.append(it)
