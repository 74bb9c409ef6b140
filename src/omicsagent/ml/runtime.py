"""Process settings for CPU training on small, shared machines.

OpenMP runtimes (LightGBM, torch, scikit-learn) spin while waiting for their other threads; on a
2-core machine that is also running something else, that makes a 2-thread fit 10-40x slower than a
1-thread one. A passive wait policy removes the slowdown. It only takes effect for runtimes loaded
after it is set, so ``build_model`` calls this before any model library is imported; setting
``OMP_WAIT_POLICY=PASSIVE`` in the environment of the process is the more reliable way.
"""
from __future__ import annotations

import os


def prefer_passive_openmp() -> None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the environment already chose a policy."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
