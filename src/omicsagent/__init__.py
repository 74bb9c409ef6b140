"""omicsagent: an autonomous, sandboxed data-science agent for molecular biology.

Nothing runs on import. The public API is re-exported lazily from the sub-packages.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
