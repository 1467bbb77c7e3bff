"""The runs folder (``--runs``): one process at a time, leftovers of killed processes removed, reserved names.

- ``runs_lock``: an OS file lock (``fcntl.flock``) on ``LOCK_NAME`` in the runs folder, held by ``pcf batch``
  and ``pcf run`` for as long as they write there. A second process is refused at once with the holder's pid,
  start time and command. The lock dies with its process (also after ``kill -9``): never a stale lock.
- ``clean_leftovers``: hidden temporary run folders (``.<product>.<hex>.tmp``, also those of compute-only runs
  under ``compute-only/<enterprise>/``), folders renamed away while a
  run was moved into place (``.<product>.<hex>.old``), temporary files of atomic writes, and the temporary
  folders of kernels and kernel templates whose process is gone. Called holding the lock.
- ``RESERVED``: names of the batch output folders and of the folders a batch writes in its own, which no
  enterprise id may take (compute-only run folders are ``compute-only/<enterprise>/<product>/``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from methodology.errors import MethodologyError, ParameterFileError, Problem

LOCK_NAME = ".pcf-runs.lock"
BATCH_FOLDERS = {"notebooks": "batch", "compute-only": "compute-only"}  # mode -> folder under --runs
# folders a batch writes inside its own folder: compute-only run folders sit beside them (compute-only/<enterprise>/)
BATCH_SUBFOLDERS = ("figures", "standards")
RESERVED = frozenset(BATCH_FOLDERS.values()) | frozenset(BATCH_SUBFOLDERS)
# temporary folders of kernels and kernel templates: <prefix><pid of the process that owns them>-<random>
KERNEL_DIR_PREFIXES = ("pcf-kernel-", "pcf-forkserver-")
_OWNED = re.compile(r"^(?:pcf-kernel-|pcf-forkserver-)(\d+)-")
_LEFTOVER = re.compile(r"^\..+\.(?:tmp|old)$|^\.summary\..+\.ipynb$")


class RunsFolderBusy(MethodologyError):
    """Another process holds the runs folder's lock."""


def unusable(runs_dir: Path, exc: OSError) -> MethodologyError:
    return MethodologyError(f"--runs: found {runs_dir} (cannot write there: {exc.strerror or exc}); expected a "
                            f"folder this user can create and write")


@contextmanager
def runs_lock(runs_dir: str | Path, command: str = ""):
    """Hold the runs folder's lock for the block; ``RunsFolderBusy`` at once when another process has it."""
    runs = Path(runs_dir)
    try:
        runs.mkdir(parents=True, exist_ok=True)
        fd = os.open(runs / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise unusable(runs, exc) from None
    try:
        _acquire(fd, runs)
        holder = {"pid": os.getpid(), "started_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                  "command": command or " ".join(sys.argv)}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _acquire(fd: int, runs: Path) -> None:
    try:
        import fcntl
    except ImportError:  # not on Windows: no lock
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise RunsFolderBusy(f"{runs} is in use by another pcf process ({_holder(fd)}); wait for it to finish "
                             f"or choose another --runs folder") from None


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        return f"pid {info['pid']}, started {info['started_at']}: {info['command']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "pid unknown"


def clean_leftovers(runs_dir: str | Path, temp_dir: str | Path | None = None) -> list[Path]:
    """Remove what killed runs and batches left behind; returns what was removed. Call it holding the lock."""
    runs = Path(runs_dir)
    removed = []
    folders = [runs] + _subfolders(runs)
    folders += _subfolders(runs / BATCH_FOLDERS["compute-only"])  # its run folders: compute-only/<enterprise>/
    for folder in folders:
        for p in folder.iterdir():
            if _LEFTOVER.match(p.name) and p.name != LOCK_NAME:
                _remove(p)
                removed.append(p)
    temp = Path(temp_dir or tempfile.gettempdir())
    for p in temp.glob("pcf-*"):
        m = _OWNED.match(p.name)
        if m and p.is_dir() and not _alive(int(m.group(1))):
            _remove(p)
            removed.append(p)
    return removed


def _subfolders(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")] if folder.is_dir() else []


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def owned_temp_dir(prefix: str) -> Path:
    """A new temporary folder named after this process (``clean_leftovers`` removes it once the process is gone)."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))


def check_enterprise_id(enterprise: str, parameter_file: str | Path) -> None:
    """Enterprise runs go to ``<runs>/<enterprise>/`` (notebooks) and ``<runs>/compute-only/<enterprise>/``: an id
    that is the name of a batch output folder or of a folder in one is refused."""
    if enterprise in RESERVED:
        raise ParameterFileError(parameter_file, [Problem(
            str(parameter_file), "enterprise.id", repr(enterprise),
            f"an id other than {', '.join(sorted(RESERVED))} (the batch output folders under --runs and "
            f"the folders in them)")])
