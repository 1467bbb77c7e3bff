"""Jupyter kernels for notebook runs: single-use, optionally started ahead and pre-imported ("warm").

A notebook run spends most of its time starting a kernel and importing Brightway, pandas and matplotlib,
not computing. A worker therefore keeps the next kernel started and its imports done while the current
run executes; on Linux that kernel is forked from the worker's pre-imported template (``forkserver``), so
the imports cost almost nothing per run. Every kernel serves exactly one run and is then shut down, so
each run still starts from a clean state: a fresh process whose only history is ``import`` statements
(run with ``store_history=False``: execution counts start at 1, no variables are left in the user
namespace).
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from methodology.execution.runs_folder import owned_temp_dir

# Modules the industry notebooks import, the shipped rules and factor set read into the loaders'
# content-keyed caches (``study.preload``), and one throwaway figure drawn so that fonts are loaded
# (``figures.preload``), then everything the warm-up made is frozen out of the garbage collector (as the
# template froze its imports). That is all the warm-up does: the user namespace stays empty.
WARM_MODULES = ("methodology.brightway.engine", "methodology.study", "methodology.outputs.report",
                "methodology.outputs.figures", "bw2data", "bw2calc", "pandas", "matplotlib.figure",
                "matplotlib.backends.backend_agg",
                "IPython.display")

WARMUP_CODE = (
    "import importlib as _il, methodology.brightway.engine as _e\n"
    "_e.skip_slow_optional_imports()\n"
    f"[_il.import_module(_m) for _m in {WARM_MODULES!r}]\n"
    "_il.import_module('methodology.study').preload()\n"
    "_il.import_module('methodology.outputs.figures').preload()\n"
    "del _il, _e\n"
    "import gc as _gc; _gc.freeze(); del _gc\n"  # what the warm-up made stays out of the run's collections
)


class KernelError(RuntimeError):
    pass


@dataclass
class _Slot:
    km: object
    kc: object | None
    msg_id: str | None
    started: float


def _start(kernel_name: str, cwd: str, warm: bool, server=None) -> _Slot:
    import uuid

    from jupyter_client import KernelManager

    km = KernelManager(kernel_name=kernel_name, transport="ipc")
    if kernel_name == "python3":  # the same interpreter, but a kernel that dies with its worker
        km.kernel_spec.argv = [sys.executable, "-m", "methodology.execution.kernel_launcher", "-f", "{connection_file}"]
    # ipc sockets live in the working directory by default: keep them in a private temp folder, named after
    # this process so that the next batch removes it if this process is killed (runs_folder.clean_leftovers)
    km.connection_file = str(owned_temp_dir("pcf-kernel-") / "kernel.json")
    km.ip = km.connection_file.removesuffix(".json")
    if server is not None:  # forked from the worker's pre-imported template (see forkserver)
        try:
            server.wait_ready()
        except RuntimeError as exc:  # a template that cannot start must not stop the batch
            print(f"{exc}; starting kernels without it", file=sys.stderr)
            server = None
    if server is not None:
        from methodology.execution.forkserver import provisioner_class

        km.kernel_id = str(uuid.uuid4())
        km.provisioner = provisioner_class()(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
        km.provisioner.server = server
    km.start_kernel(cwd=cwd)
    if not warm:
        return _Slot(km, None, None, time.monotonic())
    kc = km.client()
    kc.start_channels()
    msg_id = kc.execute(WARMUP_CODE, silent=True, store_history=False)
    return _Slot(km, kc, msg_id, time.monotonic())


def _wait_warm(slot: _Slot, timeout: float) -> None:
    if slot.kc is None:
        return
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise KernelError(f"kernel warm-up took longer than {timeout:.0f} s")
            msg = slot.kc.get_shell_msg(timeout=left)
            if msg["parent_header"].get("msg_id") == slot.msg_id:
                if msg["content"].get("status") != "ok":
                    c = msg["content"]
                    raise KernelError(f"kernel warm-up failed: {c.get('ename')}: {c.get('evalue')}")
                return
    finally:
        slot.kc.stop_channels()


def peak_rss_mb(km) -> float | None:
    """Peak resident memory of the kernel process (Linux VmHWM), in MB; None where unavailable."""
    return pid_peak_rss_mb(getattr(getattr(km, "provisioner", None), "pid", None))


def pid_peak_rss_mb(pid: int | None) -> float | None:
    """Peak resident memory of a process (Linux VmHWM), in MB; None where unavailable.

    Pages a forked kernel shares with its template count in both, as they do in any RSS figure.
    """
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def shutdown(km) -> None:
    """Kill a used kernel and remove its connection files (it served its one run)."""
    try:
        km.shutdown_kernel(now=True)
    except Exception:  # noqa: BLE001 - a dead kernel is what we want
        pass
    folder = Path(km.connection_file).parent
    if folder.name.startswith("pcf-kernel-"):
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


class KernelPool:
    """Single-use kernels for one worker; with ``warm`` the next one is started and warmed ahead.

    Kernels are started from one long-lived thread of the pool: a kernel dies with the thread that
    started it (``kernel_launcher``), so that thread must outlive the runs. Keep the pool open while
    its kernels are in use.
    """

    def __init__(self, cwd: str | Path, *, kernel_name: str = "python3", warm: bool = True,
                 warm_timeout: float = 120.0, fork: bool | None = None):
        from concurrent.futures import ThreadPoolExecutor

        from methodology.execution import forkserver

        self.cwd, self.kernel_name, self.warm, self.warm_timeout = str(cwd), kernel_name, warm, warm_timeout
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pcf-kernel-starter")
        self._next = None  # Future[_Slot]
        self._lock = threading.Lock()
        # warm kernels of the workbench's own interpreter are forked from a pre-imported template
        if fork is None:
            fork = warm and kernel_name == "python3" and forkserver.available()
        self.server = None
        if fork:  # started from the starter thread, so that it dies with it (kernel_launcher)
            self.server = self._starter.submit(forkserver.ForkServer, warm_timeout).result()
        if warm:
            self._next = self._submit()

    def _submit(self):
        return self._starter.submit(_start, self.kernel_name, self.cwd, self.warm, self.server)

    def take(self):
        """A kernel manager with a live, ready kernel that no run has used."""
        with self._lock:
            fut, self._next = self._next or self._submit(), None
            slot = fut.result(timeout=self.warm_timeout)
            try:
                _wait_warm(slot, self.warm_timeout)
            except Exception:
                shutdown(slot.km)
                raise
            if self.warm:
                self._next = self._submit()
            # nbclient must get an asynchronous client: with a blocking one it cannot notice a dead kernel
            slot.km.client_class = "jupyter_client.asynchronous.AsyncKernelClient"
            return slot.km

    def close(self) -> None:
        with self._lock:
            if self._next is not None:
                try:
                    shutdown(self._next.result(timeout=self.warm_timeout).km)
                except Exception:  # noqa: BLE001 - closing anyway
                    pass
                self._next = None
            if self.server is not None:
                self.server.close()
                self.server = None
            self._starter.shutdown(wait=False)
