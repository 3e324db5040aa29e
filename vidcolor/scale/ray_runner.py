"""The cluster executor: ``--ray [ADDRESS]`` runs the same jobs as Ray tasks.

Each task declares what it needs (``num_cpus``: the cluster's CPUs shared among the tasks run
at once; ``num_gpus=1`` when the model runs on CUDA), and Ray retries a task whose worker
died (``max_retries``). Progress comes back through a Ray queue. Inputs and outputs are paths
every node can read and write: shared storage, not copies.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from vidcolor.scale.jobs import Sink, start_worker

RETRIES = 3  # attempts after a worker died (a node lost, a process killed)


def _ray():
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise ImportError("--ray needs Ray: pip install 'vidcolor[ray]'") from None


class RayWorkers:
    """``submit(fn, *args) -> Future`` as Ray tasks. ``address``: a running cluster's (None:
    start one on this machine, ended on close); ``workers``: tasks run at once (None: one per
    two of the cluster's CPUs); ``gpu``: whether tasks need a GPU (None: where the cluster has
    one)."""

    def __init__(self, address: str | None, workers: int | None, gpu: bool | None) -> None:
        ray = _ray()
        from ray.util.queue import Queue

        self._ray, self._started = ray, not ray.is_initialized()
        if self._started:
            ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        resources = ray.cluster_resources()
        cpus = int(resources.get("CPU", 1))
        self.workers = workers or max(1, cpus // 2)
        largest = max((int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n["Alive"]),
                      default=1)
        self.cores = max(1, min(cpus // self.workers, largest))
        gpus = (resources.get("GPU", 0) > 0) if gpu is None else gpu
        self.sink: Sink = Queue()
        self._task = ray.remote(_run).options(num_cpus=self.cores, num_gpus=1 if gpus else 0,
                                              max_retries=RETRIES)
        self._refs: list = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        ref = self._task.remote(self.cores, self.sink, fn, *args)
        self._refs.append(ref)
        return _unwrapped(ref.future())

    def close(self, cancel: bool = False) -> None:
        if cancel:
            for ref in self._refs:
                self._ray.cancel(ref, force=True)
        self.sink.shutdown(force=True)
        if self._started:
            self._ray.shutdown()


def _run(cores: int, sink: Sink, fn: Callable[..., Any], *args: Any) -> Any:
    """A task: size the worker for the CPUs it was given, then run the job."""
    start_worker(cores, sink)
    return fn(*args)


def _unwrapped(future: Future) -> Future:
    """The task's own exception rather than Ray's wrapper with a remote traceback."""
    plain: Future = Future()

    def copy(done: Future) -> None:
        error = done.exception()
        if error is None:
            plain.set_result(done.result())
        else:
            plain.set_exception(getattr(error, "cause", None) or error)

    future.add_done_callback(copy)
    return plain
