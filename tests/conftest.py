"""Suite-wide hooks."""
from __future__ import annotations

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make ``xdist_group`` marks take effect under ``--dist loadgroup`` with pytest 9.2.

    pytest-xdist 3.8 groups tests by appending ``@NAME`` to each marked item's ``_nodeid``; pytest 9.2 reads
    a structured ``_id`` instead, so the suffix is lost and every grouped test is sent to any worker on its
    own (pytest-dev/pytest-xdist#1386): a module fixture such as the search-tree run was then made in both
    workers. This runs after xdist's hook (in each worker) and puts the same suffix into the id pytest reads;
    with a pytest where xdist's suffix already shows, it changes nothing."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        suffix = "@" + "_".join(names)
        if not names or item.nodeid.endswith(suffix):
            continue
        node_id = getattr(item, "_id", None)
        if node_id is not None and hasattr(type(node_id), "parse"):
            item._id = type(node_id).parse(item.nodeid + suffix)
        else:  # an older pytest: what xdist itself does
            item._nodeid = item.nodeid + suffix
