"""A number or switch given as a file (`NAME_FILE`, a Docker or Kubernetes secret) whose content is no
number or switch stops start-up in one sentence naming `NAME_FILE`, like the variable itself would, but
never quoting the file's content: a file may hold a secret (a wrong file mounted there, a password).
django-environ raised a ValueError quoting it ("invalid literal for int() with base 10: 'hunter2'"), and
read "5s" as 5.0 and a misspelt switch as off."""

from __future__ import annotations

import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from regui.core.config import env
from tests.core.test_configuration_mistakes import one_sentence, run

SECRET = "hunter2-fileX"


def refusal(monkeypatch, tmp_path, name: str, content: str, read) -> str:
    path = tmp_path / name.lower()
    path.write_text(content)
    monkeypatch.setenv(f"{name}_FILE", str(path))
    with pytest.raises(ImproperlyConfigured) as caught:
        read()
    return str(caught.value)


# Each test names its own variables: django-environ keeps a file's content once read, by name.
def test_a_whole_number_file_holding_text_is_named_without_its_content(monkeypatch, tmp_path):
    said = refusal(monkeypatch, tmp_path, "REGUI_T1_CHUNK", f"{SECRET}\n",
                   lambda: env.int("REGUI_T1_CHUNK", default=50))
    assert said.startswith(f"REGUI_T1_CHUNK_FILE={tmp_path / 'regui_t1_chunk'}: ")
    assert "must hold a whole number" in said and SECRET not in said and "hunter" not in said


def test_a_number_file_with_a_unit_is_refused_not_read_as_its_digits(monkeypatch, tmp_path):
    said = refusal(monkeypatch, tmp_path, "REGUI_T2_BEAT", "5s\n", lambda: env.float("REGUI_T2_BEAT", default=5.0))
    assert said.startswith("REGUI_T2_BEAT_FILE=") and "must hold a number" in said and "5s" not in said


def test_a_switch_file_spelled_wrong_is_refused_without_its_content(monkeypatch, tmp_path):
    said = refusal(monkeypatch, tmp_path, "REGUI_T3_SWITCH", f"{SECRET}\n",
                   lambda: env.bool("REGUI_T3_SWITCH", default=False))
    assert said.startswith("REGUI_T3_SWITCH_FILE=") and "must hold true or false" in said
    assert SECRET not in said and "\n" not in said


def test_a_file_that_is_no_text_is_named_without_its_bytes(monkeypatch, tmp_path):
    path = tmp_path / "binary"
    path.write_bytes(b"\xffhunter2\xfe")
    monkeypatch.setenv("REGUI_T4_KEY_FILE", str(path))
    with pytest.raises(ImproperlyConfigured) as caught:
        env.str("REGUI_T4_KEY")
    said = str(caught.value)
    assert said.startswith(f"REGUI_T4_KEY_FILE={path} cannot be read: ") and "UTF-8" in said
    assert "hunter" not in said and "0xff" not in said


def test_good_files_are_read_and_the_file_wins_over_a_wrong_variable_beside_it(monkeypatch, tmp_path):
    for name, content in (("REGUI_T5_INT", "42\n"), ("REGUI_T5_FLOAT", " 2.5\n"), ("REGUI_T5_ON", "yes\n"),
                          ("REGUI_T5_OFF", "0\n")):
        (tmp_path / name).write_text(content)
        monkeypatch.setenv(f"{name}_FILE", str(tmp_path / name))
        monkeypatch.setenv(name, "nonsense")  # django-environ reads the file, not this
    assert env.int("REGUI_T5_INT", default=1) == 42
    assert env.float("REGUI_T5_FLOAT", default=1.0) == 2.5
    assert env.bool("REGUI_T5_ON", default=False) is True
    assert env.bool("REGUI_T5_OFF", default=True) is False


@pytest.mark.slow
def test_manage_py_names_the_file_variable_in_one_line_without_the_content(tmp_path):
    secret = tmp_path / "debug"
    secret.write_text(f"{SECRET}\n")
    r = run([sys.executable, "manage.py", "check"], REGUI_DATA_DIR=str(tmp_path), REGUI_DEBUG_FILE=str(secret))
    assert one_sentence(r, f"REGUI_DEBUG_FILE={secret}", "must hold true or false"), r.stderr
    assert "hunter" not in r.stderr
