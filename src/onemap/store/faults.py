"""Named points where a fault-injection test may kill the running process.

The store and the sample builder call :func:`point` at each step of a write
(staged, copied, catalogued, committed …). When the environment variable
``ONEMAP_FAULT_AT`` names that point, the process kills itself with SIGKILL
there, as a power cut or ``kill -9`` would; otherwise the call does nothing.
``tests/store/test_faults.py`` runs ingest and sample in a subprocess once per
point and checks that the workspace is exactly as before or as after.
"""

from __future__ import annotations

import os
import signal

#: Environment variable naming the point to die at.
ENV = "ONEMAP_FAULT_AT"


def point(name: str) -> None:
    """Die here (SIGKILL) when ``ONEMAP_FAULT_AT`` equals ``name``."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
