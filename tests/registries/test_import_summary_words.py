"""What an import says it did counts in words: one registry authentication entry is an entry, not
"entries", in the page's message and on the command line."""

from __future__ import annotations

from regui.registries.importing import ImportResult


def test_it_says_one_registry_authentication_entry_in_the_singular():
    summary = ImportResult(mirrors=1, configs=1, secrets=["prod-reg-auth"]).summary()
    assert "1 registry authentication entry;" in summary and "entries" not in summary


def test_it_says_entries_for_several_and_for_none():
    assert "2 registry authentication entries." in ImportResult(mirrors=0, configs=2).summary()
    assert "0 registry authentication entries." in ImportResult(mirrors=3, configs=0).summary()
