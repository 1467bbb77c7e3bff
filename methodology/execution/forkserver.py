"""Kernels forked from a pre-imported template process (a "fork server"), for batch workers on Linux.

Starting an IPython kernel and importing Brightway, pandas, matplotlib and pint costs about 4 s of CPU per
run, more than the run itself. A batch worker therefore starts one template process that imports those
libraries once and then only forks: each run's kernel is a new process, forked from the template, that
starts its own IPython kernel. Every run still starts from a clean state (a fresh process and a fresh
user namespace; the template never runs user code), but the imports cost nothing per run.

What is not imported in the template: anything that opens files, connections or threads that a child
could share with its siblings. bw2data opens its SQLite database on import, so each child imports it
itself (its dependencies are already loaded, so this is quick); fonts are loaded by each child.

- ``serve(socket_path)`` is the template (``python -m methodology.execution.forkserver SOCKET``).
- ``ForkServer`` starts and stops one template for a worker.
- ``ForkProvisioner`` is a jupyter_client provisioner whose ``launch_kernel`` asks the template to fork
  a kernel instead of starting a new interpreter; ``ForkedProcess`` gives jupyter_client the Popen-like
  handle it expects (poll, wait, kill) for a process that is not its child.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time

# Imported once by the template. Nothing here may open a file, a connection or a thread at import.
TEMPLATE_MODULES = (
    "numpy", "scipy.sparse", "scipy.sparse.linalg", "pandas", "pint", "bw2parameters", "bw_processing",
    "peewee", "pydantic", "yaml", "matplotlib.figure", "matplotlib.backends.backend_agg", "PIL.PngImagePlugin",
    "IPython", "IPython.display", "ipykernel.kernelapp", "ipykernel.ipkernel", "jupyter_client.session",
    "methodology.brightway.engine", "methodology.study", "methodology.outputs.report", "methodology.outputs.figures",
)
# One thread per kernel for numerical libraries: runs are small, and workers already fill the cores.
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def available() -> bool:
    """Forking kernels needs Linux (fork, PR_SET_PDEATHSIG and pidfd)."""
    return sys.platform.startswith("linux") and hasattr(os, "pidfd_open") and hasattr(os, "fork")


# --- the template process ------------------------------------------------------------------------

def serve(socket_path: str) -> None:
    """Import, then fork one kernel per request until the worker that started us goes away."""
    from methodology.execution.kernel_launcher import _die_with_parent

    _die_with_parent()
    os.environ.update(SINGLE_THREADED)
    from methodology.brightway import engine

    engine.skip_slow_optional_imports()
    import importlib

    for name in TEMPLATE_MODULES:
        importlib.import_module(name)
    from methodology.study import preload

    preload()
    import gc

    gc.freeze()  # the imported objects are never collected in the children: no copy-on-write for that
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel, never zombies
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path + ".tmp")
    listener.listen(8)
    os.replace(socket_path + ".tmp", socket_path)  # the socket appears when the template is ready
    while True:
        conn, _ = listener.accept()
        with conn:
            request = json.loads(conn.makefile("r").readline())
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                _child(request)  # never returns
            conn.sendall((json.dumps({"pid": pid}) + "\n").encode())


def _child(request: dict) -> None:
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()  # its own process group, like a kernel jupyter_client starts; killed as a group
        from methodology.execution.kernel_launcher import _die_with_parent

        _die_with_parent()  # dies with the template, which dies with its worker
        fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(fd, 0)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        from ipykernel import kernelapp

        # the kernel watches its parent, the template (as a launched kernel watches JPY_PARENT_PID)
        sys.argv = ["ipykernel_launcher", *request["args"], f"--IPKernelApp.parent_handle={os.getppid()}"]
        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - report and leave
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


# --- the worker side -----------------------------------------------------------------------------

class ForkServer:
    """One template process for one worker; ``fork(args, env, cwd)`` returns a new kernel's pid."""

    def __init__(self, ready_timeout: float = 120.0):
        import subprocess

        from methodology.execution.runs_folder import owned_temp_dir

        self.folder = owned_temp_dir("pcf-forkserver-")
        self.socket_path = str(self.folder / "fork.sock")
        self.ready_timeout = ready_timeout
        # its own session, like the kernels it forks: Ctrl-C in a terminal signals the whole foreground process
        # group, and a template killed by it would take the kernel of the run in flight with it; the batch
        # process alone decides what Ctrl-C cancels. It still dies with its worker (PR_SET_PDEATHSIG).
        self.proc = subprocess.Popen([sys.executable, "-m", "methodology.execution.forkserver", self.socket_path],
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the kernel template exited with status {self.proc.returncode}")
            if os.path.exists(self.socket_path):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the kernel template was not ready after {self.ready_timeout:.0f} s")
            time.sleep(0.02)

    def fork(self, args: list[str], env: dict, cwd: str) -> int:
        self.wait_ready()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(self.socket_path)
                s.sendall((json.dumps({"args": args, "env": env, "cwd": cwd}) + "\n").encode())
                return int(json.loads(s.makefile("r").readline())["pid"])
        except (OSError, ValueError, KeyError) as exc:
            raise RuntimeError(f"the kernel template did not fork a kernel ({exc})") from exc

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


class ForkedProcess:
    """The ``subprocess.Popen`` surface jupyter_client uses, for a kernel forked by the template."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid, self.returncode, self._fd = pid, None, None
        try:
            self._fd = os.pidfd_open(pid)
        except ProcessLookupError:  # it died (and was reaped) already
            self.returncode = -signal.SIGKILL

    def poll(self) -> int | None:
        import select

        if self.returncode is None and select.select([self._fd], [], [], 0)[0]:
            self._exited()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import select
        import subprocess

        if self.returncode is None:
            if not select.select([self._fd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            self._exited()
        return self.returncode

    def _exited(self) -> None:
        self.returncode = -signal.SIGKILL  # the template reaps it; the status itself is not ours to see
        os.close(self._fd)
        self._fd = None

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            signal.pidfd_send_signal(self._fd, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def provisioner_class():
    """``ForkProvisioner``, defined on first use so that importing this module stays light."""
    global _PROVISIONER
    if _PROVISIONER is None:
        from jupyter_client.provisioning import LocalProvisioner

        class ForkProvisioner(LocalProvisioner):
            """jupyter_client's local provisioner, but the kernel process is forked by a ``ForkServer``."""

            server: ForkServer | None = None

            async def launch_kernel(self, cmd: list[str], **kwargs):
                args = cmd[cmd.index("-f"):]  # the connection file and what follows
                env = dict(kwargs.get("env") or os.environ)
                cwd = str(kwargs.get("cwd") or os.getcwd())
                self.process = ForkedProcess(self.server.fork(args, env, cwd))
                self.pid = self.pgid = self.process.pid  # the child called setsid()
                self.cwd = cwd
                return self.connection_info

        _PROVISIONER = ForkProvisioner
    return _PROVISIONER


_PROVISIONER = None


if __name__ == "__main__":
    serve(sys.argv[1])
