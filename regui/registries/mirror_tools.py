"""A copy of a mirror box, for another registry (several endpoints typed at once are split by
draft.split_endpoints). Pure Python, no Django."""

from __future__ import annotations

from .draft import EndpointRow, MirrorBox, RewriteRow, new_token


def mirror_copy(box: MirrorBox) -> MirrorBox:
    """A new box with `box`'s endpoints and rewrites (rows of its own) and no hostname: a registry
    has one mirror box, so the copy is for another one."""
    return MirrorBox(
        new_token(), "",
        endpoints=[EndpointRow(new_token(), e.url) for e in box.endpoints] or [EndpointRow(new_token())],
        rewrites=[RewriteRow(new_token(), r.pattern, r.replacement) for r in box.rewrites],
    )
