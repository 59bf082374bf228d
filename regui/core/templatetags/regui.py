from __future__ import annotations

from contextlib import suppress

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from regui.core.fingerprints import file_fingerprint

register = template.Library()


@register.filter
def fingerprint(sha256_hex: str | None) -> str:
    """A file's keyed fingerprint, for pages: never its sha256 (see core/fingerprints.py)."""
    return file_fingerprint(sha256_hex)


@register.simple_tag
def slot(token: str, field: str) -> str:
    return f"{token}-{field}"


@register.filter
def lookup_field(form, name: str):
    return form[name]


@register.simple_tag
def field_errors(errors: dict, token: str, field: str) -> str:
    """The error slot of one field; built in Python because a page can hold thousands of them."""
    key = f"{token}-{field}"
    messages = errors.get(key, []) if errors else []
    return format_html(
        '<div class="field-error" id="err-{}" role="alert">{}</div>',
        key, format_html_join("", "<span>{}</span>", ((m,) for m in messages)),
    )


@register.simple_tag
def secret_options(secrets: list, selected: str) -> str:
    """`<option>`s for a secret select; in Python because every box on a big page repeats the list.

    Each option is escaped once per page and kept as two halves around the `selected` mark, joined
    by concatenation: a label is user text, so it never goes through str.format (a `{` in it would)."""
    cache = getattr(secrets, "_regui_options", None)
    if cache is None:
        cache = [(str(s.id), format_html('<option value="{}"', s.id), format_html(">{}</option>", s.label))
                 for s in secrets]
        with suppress(AttributeError):  # a list subclass from the selector accepts attributes
            setattr(secrets, "_regui_options", cache)  # noqa: B010  (plain lists refuse it)
    return mark_safe("".join(head + (" selected" if value == selected else "") + tail  # noqa: S308
                             for value, head, tail in cache))
