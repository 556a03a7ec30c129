"""The Ray engine: the same ``imap`` as the local pool, over the actors of a Ray cluster.

Why: evaluations and searches that take hours on one machine (the field's most common
complaint) spread over many. ReProver's ``DistributedProver`` does it this way: one actor per
prover, each owning its proof-assistant process and its policy (its model loaded once per
actor), the driver alone writing the results.

How: ``workers`` actors (1 CPU each, anywhere in the cluster); each builds its state once with
``init(*init_args)``; the driver keeps one job in flight per actor and yields ``(item, result)``
as jobs finish, in completion order, so the caller (``run_search``) stays the only writer of
the proof database. Faults: an actor (or its node) that dies is replaced by a fresh one and
its in-flight item is submitted again; an item on which two actors died is reported as that
item's error. Every item is yielded exactly once,
so no attempt is lost or counted twice; a killed run resumes like a local one (finished
attempts are in the database). Unlike a local process pool, one actor's death cannot break the
others, so the item it held is known exactly.

The cluster: ``address`` (``--address`` on the command line) or the ``RAY_ADDRESS``
environment variable, ``auto`` for a cluster started on this machine with ``ray start``; none
starts a private local Ray for the run (bound to 127.0.0.1). Each actor works in the driver's
directory when its node has it, so relative paths (the corpus, a model, the database the
failure cache is read from) resolve as on the driver: on other machines, use the same
checkout at the same path or a shared filesystem. Every node needs the project installed
(``make setup``) and its proof assistant.
"""
from __future__ import annotations

import os
import traceback
from typing import Any, Callable, Iterable, Iterator

MAX_DEATHS = 2  # an item whose actor died twice is reported as an error, not tried a third time


def _connect(address: str | None) -> None:
    import ray
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    kw = dict(ignore_reinit_error=True, log_to_driver=False, include_dashboard=False)
    if address:
        ray.init(address=address, **kw)
    else:  # a private single-machine Ray, on loopback only
        ray.init(_node_ip_address="127.0.0.1", num_cpus=max(1, os.cpu_count() or 1), **kw)


def _actor_class():
    import ray

    @ray.remote(num_cpus=1, max_restarts=0)
    class Worker:
        def __init__(self, init, args, cwd):
            if os.path.isdir(cwd):  # relative paths (corpus, models, databases) mean what they mean to the driver
                os.chdir(cwd)
            self.state = init(*args)

        def pid(self) -> int:
            return os.getpid()

        def run(self, job, item):
            try:
                return job(self.state, item)
            except Exception as e:  # reported per item; the actor goes on
                return {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}

        def close(self) -> None:
            close = getattr(self.state, "close", None)
            if close:
                close()

    return Worker


class RayPool:
    def __init__(self, workers: int, init: Callable, init_args: tuple = (), address: str | None = None):
        self.workers = max(1, workers)
        self.init, self.init_args = init, init_args
        self.address = address
        self.deaths = 0     # actors lost (and replaced) during the last imap
        self.actor_pids: list[int] = []  # the live actors' process ids (tests kill one)

    def imap(self, job: Callable, items: Iterable) -> Iterator[tuple[Any, Any]]:
        import ray
        from ray.exceptions import RayActorError, WorkerCrashedError
        _connect(self.address)
        Worker = _actor_class()
        items = list(items)
        todo = list(range(len(items)))[::-1]   # indices, popped from the end: the given order
        deaths = [0] * len(items)
        in_flight: dict[Any, tuple[Any, int]] = {}  # object ref -> (actor, item index)
        actors = []

        def spawn():
            a = Worker.remote(self.init, self.init_args, os.getcwd())
            actors.append(a)
            return a

        def submit(actor, i):
            in_flight[actor.run.remote(job, items[i])] = (actor, i)

        try:
            for _ in range(min(self.workers, len(items))):
                spawn()
            try:
                self.actor_pids = ray.get([a.pid.remote() for a in actors])
            except RayActorError:
                self.actor_pids = []
            for a in list(actors):
                if todo:
                    submit(a, todo.pop())
            while in_flight:
                done, _ = ray.wait(list(in_flight), num_returns=1)
                ref = done[0]
                actor, i = in_flight.pop(ref)
                try:
                    result = ray.get(ref)
                except (RayActorError, WorkerCrashedError) as e:
                    self.deaths += 1
                    deaths[i] += 1
                    actors.remove(actor)
                    if deaths[i] >= MAX_DEATHS:
                        yield items[i], {"error": f"worker died {deaths[i]} times on this item: {e}"}
                    else:
                        todo.append(i)  # the same item again, on a fresh actor
                    if todo:
                        submit(spawn(), todo.pop())
                    continue
                yield items[i], result
                if todo:
                    submit(actor, todo.pop())
        finally:
            for a in actors:
                try:
                    ray.get(a.close.remote(), timeout=30)
                except Exception:
                    pass
                ray.kill(a)
