"""The local engine: one job per item in N worker processes on this machine, each with its
own proof assistant.

One small interface (``imap``), built by ``prover.engines.make_pool``, so that a distributed
engine can replace the local pool. Each worker builds its state once (``init(*args)`` returns an object,
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


class LocalPool:
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
        # A dead worker breaks the whole pool and every unfinished item with it, and the
        # item that killed it cannot be told from the innocent ones in flight. So broken
        # items go round again; an item broken twice runs alone in a fresh worker, where
        # a third death can only be its own.
        ctx = mp.get_context("spawn")
        broken_count: dict[int, int] = {}
        pending = list(enumerate(items))
        while pending:
            again, alone = [], []
            ex = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init,
                                     initargs=(self.init, self.init_args))
            finished = False
            try:
                futs = {ex.submit(_run, job, it): (i, it) for i, it in pending}
                for f in as_completed(futs):
                    i, it = futs[f]
                    try:
                        yield it, f.result()
                    except BrokenProcessPool:
                        broken_count[i] = broken_count.get(i, 0) + 1
                        (alone if broken_count[i] >= 2 else again).append((i, it))
                finished = True
            finally:
                if finished:
                    ex.shutdown(wait=True)
                else:  # the caller stopped (a full disk, Ctrl-C): drop the queued jobs, stop the workers
                    ex.shutdown(wait=False, cancel_futures=True)
                    for proc in list(getattr(ex, "_processes", {}).values()):
                        proc.terminate()
            for i, it in alone:
                with ProcessPoolExecutor(1, mp_context=ctx, initializer=_init,
                                         initargs=(self.init, self.init_args)) as ex:
                    try:
                        yield it, ex.submit(_run, job, it).result()
                    except BrokenProcessPool as e:
                        yield it, {"error": f"worker died: {e}"}
            pending = again
