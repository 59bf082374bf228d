"""Who may make regui connect to a node, and who may trust a node's host key.

A connection carries the node's SSH credential, and a push the registry secrets of its cluster: both
may reach only a host that an admin trusted (or two people, when REGUI_HOST_KEY_APPROVAL says so).
The services ask `connect_refusal` before every connection (push, drift check, import from a node,
scan) and `approval_refusal` before pinning a host key.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from regui.core.roles import ADMIN, OPERATOR, has_role

# The gate reads each node's jump host and shared credential. Those modules import nothing of inventory
# above its models and pinning (jump_refusal takes `approvers` as an argument for that), so importing
# them here makes no cycle (tests/shape/test_layers.py checks).
from regui.inventory.credentials.services import shared_link, shared_refusal
from regui.inventory.jumphosts.routing import jump_for, jump_refusal

from .models import Node

ADMIN_ONLY, TWO_PERSON = "admin", "two-person"


def approvers() -> str:
    """Who may approve a host key, in words, for messages."""
    if settings.REGUI_HOST_KEY_APPROVAL == TWO_PERSON:
        return "an admin, or an operator other than the one who set the node's address,"
    return "an admin"


def approval_refusal(node: Node, user: Any) -> str:
    """Why `user` may not approve the node's host key; "" when they may."""
    if has_role(user, ADMIN):
        return ""
    if settings.REGUI_HOST_KEY_APPROVAL != TWO_PERSON:
        return ("Only an admin can approve a host key: approving it lets regui send this node its SSH "
                "credential and the registry secrets of its cluster.")
    if not has_role(user, OPERATOR):
        return "Only an operator or an admin can approve a host key."
    if not node.address_changed_by:
        return "regui does not know who set this node's address, so only an admin can approve its host key."
    if node.address_changed_by == user.get_username():
        return ("You added this node or changed its address, port or SSH user: another operator or an admin "
                "must approve its host key.")
    return ""


def connect_refusal(node: Node, *, scan: bool = False) -> str:
    """Why regui must not connect to the node now; "" when it may. A scan sends nothing (the caller
    gives it no credential), so only a connection that logs in needs a trusted key and a credential;
    but through a jump host even a scan logs in to the jump host, whose own key must be approved."""
    if (jump := jump_for(node)) is not None and (refusal := jump_refusal(jump, approvers())):
        return refusal
    if scan:
        return ""
    if not node.has_approved_key:
        return (f"no approved host key: scan the node's host key and have {approvers()} approve it. "
                "Nothing was sent.")
    if shared_link(node) is not None:
        return shared_refusal(node)
    if not node.sealed:
        return ("no stored credential (changing the address, port or SSH user drops it): edit the node and "
                "enter it again, or choose a shared credential. Nothing was sent.")
    return ""
