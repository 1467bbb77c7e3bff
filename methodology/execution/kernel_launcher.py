"""Start an IPython kernel that dies with the process that started it (Linux ``PR_SET_PDEATHSIG``).

A batch worker that is killed must not leave its kernel running on: an orphaned kernel would go on
writing into the run's temporary folder. Elsewhere it behaves like ``python -m ipykernel_launcher``.
"""

from __future__ import annotations

import signal
import sys


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


if __name__ == "__main__":
    _die_with_parent()
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()
