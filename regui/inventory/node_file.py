"""Whether a file read from a node (Import from node) is what regui last wrote or confirmed there, and
that is the cluster's current render: then importing it changes nothing.

Told by what regui recorded for the node (the file's sha256 and sync key, core/fingerprints.py), never by
comparing the file with a render holding secret values regui did not give the node: that comparison
would answer a guess saved in place of a secret."""

from __future__ import annotations

import hashlib

from regui.registries.selectors import cluster_sync_key

from .models import Node


def node_file_is_ours(node: Node, text: str) -> bool:
    """Whether regui wrote this very file there (or confirmed the node holds what it wrote): its text is
    then the registries' own at some revision, shown by regui's pages already."""
    return bool(node.last_sync_key) and hashlib.sha256(text.encode()).hexdigest() == node.last_sha256


def node_file_is_current(node: Node, text: str) -> bool:
    return node_file_is_ours(node, text) and node.last_sync_key == cluster_sync_key(node.cluster)


def unchanged_import_message(node: Node) -> str:
    return (f"Nothing to import: {node.name} holds the cluster's current registries, as regui wrote them there. "
            "Nothing was saved.")
