"""Process-wide settings the CLI applies once at start."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Planning a large registry allocates millions of small objects that live for the
    whole run; CPython's default threshold (700) then runs collections over them again
    and again for nothing. Measured with bench/planner_scale.py at 1M images: about 15%
    of planning time; these thresholds were the best of the few tried."""
    gc.set_threshold(50_000, 20, 100)
