from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def errors_for(errors: dict, slot: str) -> list[str]:
    return errors.get(slot, []) if errors else []


@register.simple_tag
def slot(token: str, field: str) -> str:
    return f"{token}-{field}"


@register.filter
def lookup_field(form, name: str):
    return form[name]
