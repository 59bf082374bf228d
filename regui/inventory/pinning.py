"""A host regui connects to over SSH with a pinned host key: nodes and jump hosts.

Nothing connects until someone allowed to (trust.approval_refusal and its jump host twin) approved a
scanned key, and a key is trusted only for the target it was scanned at: pointing the host elsewhere
drops it, whatever path does the change (`save`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from regui.audit import context as audit_context
from regui.audit.models import Audited
from regui.audit.services import audit_object


class PinnedHost(Audited):
    # The pinned host key: nothing connects until an operator approved one.
    host_key_type = models.CharField(max_length=64, blank=True)
    host_key = models.TextField(blank=True)
    host_key_fingerprint = models.CharField(max_length=100, blank=True)
    host_key_approved_at = models.DateTimeField(null=True, blank=True)
    host_key_approved_by = models.CharField(max_length=150, blank=True)
    # Who created the host or last changed where it connects (TARGET_FIELDS): under two-person
    # approval they may not approve its host key themselves. "" when unknown.
    address_changed_by = models.CharField(max_length=150, blank=True)
    # The last scan, shown for approval.
    scanned_key_type = models.CharField(max_length=64, blank=True)
    scanned_key = models.TextField(blank=True)
    scanned_fingerprint = models.CharField(max_length=100, blank=True)
    scanned_at = models.DateTimeField(null=True, blank=True)

    # Where regui connects (and as whom, for a host whose credential is trusted for it too): the key
    # is trusted for these, so changing any of them makes it another host.
    TARGET_FIELDS: ClassVar[tuple[str, ...]] = ("address", "port")
    KEY_FIELDS: ClassVar[tuple[str, ...]] = (
        "host_key_type", "host_key", "host_key_fingerprint", "host_key_approved_at", "host_key_approved_by",
        "scanned_key_type", "scanned_key", "scanned_fingerprint", "scanned_at", "address_changed_by")

    # What the stored key was trusted for (None: not read from the database).
    _saved_target: tuple[Any, ...] | None = None

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Any:
        host = super().from_db(db, field_names, values)
        host._saved_target = host._target()
        return host

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        fields = kwargs.get("fields") or (args[1] if len(args) > 1 else None)
        if fields is None or set(fields) & set(self.TARGET_FIELDS):
            self._saved_target = self._target()

    def _target(self) -> tuple[Any, ...] | None:
        values = tuple(self.__dict__.get(f) for f in self.TARGET_FIELDS)  # a deferred field is absent
        return None if None in values else values

    @property
    def target_changed(self) -> bool:
        """The target differs from what the stored key (and credential) were for."""
        return self._saved_target is not None and self._target() != self._saved_target

    def on_move(self) -> tuple[str, ...]:
        """Hook for what else a move drops besides the key; returns the fields it changed."""
        return ()

    def after_save(self) -> None:
        """Hook run after every save."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Here rather than in one form: whatever path points the host elsewhere, the old host key must
        # not vouch for the new one.
        moved = self.target_changed
        if moved or (self._state.adding and not self.address_changed_by):
            self.address_changed_by = audit_context.current().username
        if moved:
            dropped = self.on_move()
            self.host_key_type = self.host_key = self.host_key_fingerprint = self.host_key_approved_by = ""
            self.scanned_key_type = self.scanned_key = self.scanned_fingerprint = ""
            self.host_key_approved_at = self.scanned_at = None
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], *self.TARGET_FIELDS, *dropped,
                                           *self.KEY_FIELDS}
        super().save(*args, **kwargs)
        self._saved_target = self._target()
        self.after_save()

    @property
    def has_approved_key(self) -> bool:
        return bool(self.host_key and self.host_key_approved_at)


Host = TypeVar("Host", bound=PinnedHost)


@transaction.atomic
def host_key_approve(*, host: Host, fingerprint: str, user: Any, refusal: Callable[[Host, Any], str],
                     error: type[Exception]) -> None:
    """Pin the scanned key, if `refusal` says `user` may. They confirm the fingerprint they saw, so a
    rescan in between cannot slip a different key in; the row is read again under a lock, so a target
    changed meanwhile cannot inherit the approval. `host` gets the approved key too."""
    locked = type(host)._default_manager.select_for_update().get(pk=host.pk)
    if why := refusal(locked, user):
        raise error(why)
    if not locked.scanned_key or locked.scanned_fingerprint != fingerprint:
        raise error("The key shown is no longer the scanned one: scan again and check the fingerprint.")
    previous = f"{locked.host_key_type} {locked.host_key_fingerprint}" if locked.host_key else None
    approved = {"host_key_type": locked.scanned_key_type, "host_key": locked.scanned_key,
                "host_key_fingerprint": locked.scanned_fingerprint, "host_key_approved_at": timezone.now(),
                "host_key_approved_by": user.get_username()}
    for name, value in approved.items():
        setattr(locked, name, value)
        setattr(host, name, value)
    locked.save(update_fields=list(approved))
    audit_object(locked, "approve_key", {
        "host_key": [previous, f"{locked.host_key_type} {locked.host_key_fingerprint}"],
        "approved_by": [None, locked.host_key_approved_by]},
        message=f"REGUI_HOST_KEY_APPROVAL={settings.REGUI_HOST_KEY_APPROVAL}; address set by "
                f"{locked.address_changed_by or 'unknown'}")
