"""Where a sweep runs: a Dask ``LocalCluster`` of this machine's cores, or any Dask scheduler.

Without an address, :func:`open_cluster` starts a ``LocalCluster`` of worker *processes* (one
thread each: the engines are numba and torch code that would otherwise fight over the cores),
on 127.0.0.1, sized to the machine (``os.process_cpu_count``) or to ``workers``. With an
address (``tcp://host:8786``) it connects to a scheduler started by hand (``dask scheduler``
and ``dask worker``) or by dask-jobqueue, and waits at most :data:`CONNECT_TIMEOUT_S` for it
and for its first worker: an unreachable scheduler is one clear line, never a hang.

The client fetches results straight from the workers (``direct_to_workers``): a point's arrays
never pass through the scheduler. :meth:`Cluster.close` closes the client and the local
cluster (its worker processes end) and ends the idle thread distributed keeps for its own
offloading and the resource tracker multiprocessing started for the worker processes, so
nothing of Dask is left running in this process.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass
from typing import Any

CONNECT_TIMEOUT_S = 5.0
"""Longest wait for a scheduler to answer, and for it to have a worker."""
LOCAL_START_TIMEOUT_S = 60.0
"""Longest wait for a local cluster's worker processes to start."""
RETRIES = 2
"""How many times Dask reruns a point whose task raised (a worker that dies mid-task is
handled by the scheduler itself: its tasks go to other workers, up to its
``allowed-failures``)."""


class ClusterError(RuntimeError):
    """The cluster could not be started or reached (one sentence)."""


def machine_cores() -> int:
    """The cores this process may use."""
    counter = getattr(os, "process_cpu_count", None)
    if counter is not None:
        return max(1, counter() or 1)
    with contextlib.suppress(AttributeError):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def dashboard_available() -> bool:
    """Whether Dask can serve its dashboard here (it needs bokeh)."""
    return importlib.util.find_spec("bokeh") is not None


@dataclass
class Cluster:
    """A connected Dask client, the local cluster it started (None for a scheduler), and what
    to tell the user about it."""

    client: Any
    local: Any = None
    address: str = ""
    runner: Any = None  # the event loop we started for a scheduler's client

    @property
    def dashboard(self) -> str:
        """The dashboard's address ('' when it is not served: bokeh is not installed)."""
        if not dashboard_available():
            return ""
        try:
            return str(self.client.dashboard_link or "")
        except (AttributeError, KeyError, ValueError):
            return ""

    @property
    def n_workers(self) -> int:
        try:
            return len(self.client.scheduler_info(n_workers=-1)["workers"])
        except TypeError:  # older distributed: no n_workers argument
            return len(self.client.scheduler_info()["workers"])
        except (OSError, KeyError):
            return 0

    def describe(self) -> str:
        """'local cluster, 2 worker processes' or 'scheduler tcp://…:8786, 4 workers'."""
        n = self.n_workers
        if self.local is not None:
            return f"local cluster, {n} worker process{'es' if n != 1 else ''}"
        return f"scheduler {self.address}, {n} worker{'s' if n != 1 else ''}"

    def close(self) -> None:
        """Close the client, then the local cluster (waiting for its processes), then the
        thread distributed keeps for offloading; idempotent, never raises."""
        with contextlib.suppress(Exception):
            self.client.close(timeout=10)
        if self.local is not None:
            with contextlib.suppress(Exception):
                self.local.close(timeout=20)
        if self.runner is not None:
            with contextlib.suppress(Exception):
                self.runner.stop()
        local = self.local is not None
        self.client = _Closed()
        self.local = self.runner = None
        end_offload_thread()
        if local:
            end_resource_tracker()


class _Closed:
    def close(self, *args, **kwargs) -> None:
        pass


def open_cluster(
    workers: int | None = None, scheduler: str | None = None, *, quiet_logs: bool = True
) -> Cluster:
    """A client of the scheduler at ``scheduler``, or of a new local cluster of ``workers``
    processes (default: one per core). ClusterError with one sentence if it cannot be had."""
    if quiet_logs:
        for name in ("distributed", "bokeh", "tornado"):
            logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError("sweeps need Dask: pip install 'dask[distributed]'") from None
    if scheduler:
        return _connect(Client, scheduler)
    n = workers or machine_cores()
    if n < 1:
        raise ClusterError(f"--workers must be ≥ 1, got {n}")
    with dask.config.set({"distributed.scheduler.allowed-failures": 3}), _sigint_ignored():
        try:
            local = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0" if dashboard_available() else None,
                silence_logs=logging.ERROR if quiet_logs else logging.WARNING,
                env={
                    "NUMBA_NUM_THREADS": "1",
                    "OMP_NUM_THREADS": "1",
                    "MKL_NUM_THREADS": "1",
                    "OPENBLAS_NUM_THREADS": "1",
                },
                death_timeout=CONNECT_TIMEOUT_S * 4,
            )
        except Exception as exc:  # noqa: BLE001 — any failure to start is the same message
            end_offload_thread()
            raise ClusterError(
                f"could not start a local Dask cluster of {n} workers ({type(exc).__name__}: {exc})"
            ) from None
    try:
        client = Client(local, direct_to_workers=True, set_as_default=False)
        client.wait_for_workers(n, timeout=LOCAL_START_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001
        with contextlib.suppress(Exception):
            local.close()
        end_offload_thread()
        raise ClusterError(f"the local Dask cluster did not start ({exc})") from None
    return Cluster(client, local, str(local.scheduler_address))


@contextlib.contextmanager
def _sigint_ignored():
    """Ignore SIGINT while the worker processes are spawned, so that they inherit it ignored:
    Ctrl-C in a terminal reaches the whole process group, and only this client must answer it
    (by cancelling the sweep and closing the cluster), not every worker with a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _connect(client_class, address: str) -> Cluster:
    host, port = _host_port(address)
    try:  # a plain TCP probe first: a refused or silent address fails fast, and cleanly
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} ({exc.strerror or type(exc).__name__})"
        ) from None
    from distributed.utils import LoopRunner

    runner = LoopRunner(asynchronous=False)  # ours, so that a failed client leaves no thread
    runner.start()
    try:
        client = client_class(
            address,
            timeout=CONNECT_TIMEOUT_S,
            direct_to_workers=True,
            set_as_default=False,
            loop=runner.loop,
        )
    except Exception as exc:  # noqa: BLE001 — OSError, TimeoutError, ValueError, …
        runner.stop()
        end_offload_thread()
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} within "
            f"{CONNECT_TIMEOUT_S:g} s ({reason})"
        ) from None
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except Exception:  # noqa: BLE001
        with contextlib.suppress(Exception):
            client.close()
        runner.stop()
        end_offload_thread()
        raise ClusterError(
            f"the Dask scheduler at {address} has no workers (start some with "
            f"'dask worker {address}')"
        ) from None
    return Cluster(client, None, address, runner)


def _host_port(address: str) -> tuple[str, int]:
    """(host, port) of 'tcp://host:port' (or 'host:port'); ClusterError otherwise."""
    rest = address.split("://", 1)[1] if "://" in address else address
    if "://" in address and not address.startswith(("tcp://", "tls://")):
        raise ClusterError(f"'{address}': only tcp:// and tls:// schedulers are supported")
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise ClusterError(f"'{address}' is not a scheduler address (tcp://host:8786)")
    return host, int(port)


def end_offload_thread() -> None:
    """End the idle thread that distributed keeps for offloading work from its event loops
    (``Dask-Offload``), by replacing its executor with a fresh one that starts no thread until
    it is used: a closed sweep then leaves no thread behind."""
    try:
        from concurrent.futures import ThreadPoolExecutor

        from distributed import utils
    except ImportError:
        return
    old = getattr(utils, "_offload_executor", None)
    if old is None or not getattr(old, "_threads", None):
        return
    utils._offload_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="Dask-Offload")
    old.shutdown(wait=True)


def end_resource_tracker() -> None:
    """End the process multiprocessing starts beside the first worker process it spawns (its
    resource tracker), once no such process is left: it would otherwise live as long as this
    process (the GUI's), a child nobody uses. It starts again with the next local cluster."""
    import gc
    import multiprocessing
    from multiprocessing import resource_tracker

    if multiprocessing.active_children():
        return
    gc.collect()  # the semaphores of the closed workers' queues, unregistered first
    tracker = getattr(resource_tracker, "_resource_tracker", None)
    stop = getattr(tracker, "_stop", None)
    if stop is not None:
        with contextlib.suppress(Exception):
            stop()
