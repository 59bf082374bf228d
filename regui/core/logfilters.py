"""Log filters for the LOGGING config (regui/settings.py)."""

from __future__ import annotations

import logging


class RefusalsWithoutTraceback(logging.Filter):
    """A refusal Django logs for a 4xx response (django.request's "Forbidden (Permission denied)" for a
    viewer opening an edit page, django.security.*'s for a suspicious request) is one line: the exception
    that made it is expected, its traceback says nothing, so only its message stays, on the same line.
    A 5xx keeps its traceback: that is a bug to read."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if (record.exc_info and isinstance(status, int) and 400 <= status < 500
                and record.name.split(".")[:2] in (["django", "request"], ["django", "security"])):
            message, reason = record.getMessage(), str(record.exc_info[1] or "")
            record.msg, record.args = (f"{message} ({reason})" if reason and reason not in message else message), ()
            record.exc_info, record.exc_text = None, None
        return True
