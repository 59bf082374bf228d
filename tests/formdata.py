"""What a browser would send for a form of a page, read from the page's HTML (no browser): the
fields with a name that are not disabled (nor inside a disabled fieldset), checked boxes only, each
select's selected option (or its first), textareas' text. For fast tests of what a page posts; and
such data as request.POST holds it, for tests that call draft_from_post."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from django.utils.datastructures import MultiValueDict

# Elements with no end tag: they never open a scope.
_VOID = {"input", "br", "hr", "img", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


class _Form(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.depth = 0  # open elements inside the form; 0: outside it
        self.disabled_at: int | None = None  # depth of the disabled fieldset we are in
        self.fields: list[tuple[str, str]] = []
        self.select: tuple[str, bool] | None = None  # (name, disabled) of the open <select>
        self.options: list[tuple[str, bool]] = []
        self.option: dict[str, str | None] | None = None
        self.textarea: tuple[str, bool] | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if self.depth == 0:
            if tag == "form" and a.get("id") == self.form_id:
                self.depth = 1
            return
        disabled = self.disabled_at is not None or "disabled" in a
        if tag == "input" and a.get("name") and not disabled:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "image", "reset", "file"):
                self.fields.append((a["name"] or "", a.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "select":
            self.select, self.options = (a.get("name") or "", disabled or not a.get("name")), []
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "selected": "selected" if "selected" in a else None, "text": ""}
        elif tag == "textarea":
            self.textarea, self.text = (a.get("name") or "", disabled or not a.get("name")), ""
        if tag not in _VOID:
            self.depth += 1
            if tag == "fieldset" and "disabled" in a and self.disabled_at is None:
                self.disabled_at = self.depth

    def handle_data(self, data: str) -> None:
        if self.option is not None:
            self.option["text"] = (self.option["text"] or "") + data
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if self.depth == 0 or tag in _VOID:
            return
        if tag == "option" and self.option is not None:
            value = self.option["value"] if self.option["value"] is not None else (self.option["text"] or "").strip()
            self.options.append((value or "", bool(self.option["selected"])))
            self.option = None
        elif tag == "select" and self.select is not None:
            name, skip = self.select
            chosen = [v for v, selected in self.options if selected] or [v for v, _ in self.options[:1]]
            if not skip and chosen:
                self.fields.append((name, chosen[-1]))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            name, skip = self.textarea
            if not skip:
                self.fields.append((name, self.text.removeprefix("\n")))
            self.textarea = None
        if self.disabled_at == self.depth:
            self.disabled_at = None
        self.depth -= 1


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    """(name, value) pairs the form `form_id` of `html` submits, in order."""
    parser = _Form(form_id)
    parser.feed(html)
    return parser.fields


def form_data(html: str, form_id: str) -> dict[str, list[str]]:
    """The same as a dict of lists, as Django's test client posts it."""
    data: dict[str, list[str]] = {}
    for name, value in form_fields(html, form_id):
        data.setdefault(name, []).append(value)
    return data


def posted(data: dict[str, Any]) -> MultiValueDict:
    """`data` (a value or a list of values per name) as Django's request.POST holds it."""
    return MultiValueDict({k: v if isinstance(v, list) else [v] for k, v in data.items()})
