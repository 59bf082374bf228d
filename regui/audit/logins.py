"""Login throttling: after REGUI_LOGIN_FAILURES failed logins within REGUI_LOGIN_LOCK_MINUTES, for
one typed username or from one client address, logins with that name or from that address are
refused for REGUI_LOGIN_LOCK_MINUTES, the right password included.

Counts live in the database, which every web process shares (a per-process cache would give an
attacker a fresh budget per worker). An IPv6 client usually holds a whole /64, so that is its
address here. Only counted failures reach the history, so one client writes at most the limit per
window there, whatever it sends.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .context import client_ip
from .models import LoginThrottle

THROTTLED = "throttled"


def _limit() -> int:
    return max(1, int(getattr(settings, "REGUI_LOGIN_FAILURES", 5)))


def lock_minutes() -> float:
    return float(getattr(settings, "REGUI_LOGIN_LOCK_MINUTES", 15))


def _period() -> timedelta:
    return timedelta(minutes=lock_minutes())


def client_network(request) -> str:
    """What one client is: its IPv4 address, or the /64 of its IPv6 address ("unknown" if none)."""
    ip = client_ip(request)
    if ip is None:
        return "unknown"
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is that IPv4 client
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _keys(request, username: str) -> list[str]:
    keys = [f"addr:{client_network(request)}"]
    if username:
        keys.append(f"user:{username[:150]}")
    return keys


def refused_until(request, username: str) -> datetime | None:
    """Until when a login with this name or from this client is refused; None if it may try."""
    until = (LoginThrottle.objects.filter(key__in=_keys(request, username), locked_until__gt=timezone.now())
             .aggregate(until=Max("locked_until"))["until"])
    return until


def login_failed(request, username: str) -> bool:
    """Count a failed login; True when this one locked the name or the client."""
    now, limit, period = timezone.now(), _limit(), _period()
    locked = False
    with transaction.atomic():
        for key in _keys(request, username):
            row, _ = LoginThrottle.objects.select_for_update().get_or_create(key=key, defaults={"window_start": now})
            if now - row.window_start > period or (row.locked_until is not None and row.locked_until <= now):
                row.failures, row.window_start, row.locked_until = 0, now, None
            row.failures += 1
            if row.failures >= limit and row.locked_until is None:
                row.locked_until, locked = now + period, True
            row.save()
    return locked


def login_succeeded(request, username: str) -> None:
    """The person knew the password: their name's count starts again. The address's does not, or
    anyone with an account could clear it between guesses at another."""
    LoginThrottle.objects.filter(key=f"user:{username[:150]}").delete()


def prune_login_throttles() -> int:
    """Rows whose window and lock are over hold nothing any more."""
    cutoff = timezone.now() - _period()
    deleted, _ = LoginThrottle.objects.filter(window_start__lt=cutoff).exclude(locked_until__gt=timezone.now()).delete()
    return deleted


def refusal_message(until: datetime) -> str:
    minutes = max(1, round((until - timezone.now()).total_seconds() / 60))
    return (f"Too many failed logins with this username or from your address: try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}.")


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, refusing before the password is even checked while throttled."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if self.request is not None and (until := refused_until(self.request, username)):
            raise forms.ValidationError(refusal_message(until), code=THROTTLED)
        return super().clean()
