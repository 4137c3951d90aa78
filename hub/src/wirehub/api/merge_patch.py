"""JSON Merge Patch (RFC 7396), bounded in depth."""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 64


def merge_patch(target: Any, patch: Any, *, depth: int = 0) -> Any:
    """``target`` with ``patch`` merged in, as RFC 7396 says; neither argument is changed.

    An object in ``patch`` merges key by key (``null`` removes a key); anything else,
    lists included, replaces the value whole. Objects nested past ``MAX_DEPTH`` replace
    rather than merge, so a hostile patch costs no more than its own size.
    """
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif depth >= MAX_DEPTH:
            merged[key] = value
        else:
            merged[key] = merge_patch(merged.get(key), value, depth=depth + 1)
    return merged
