#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regui.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A configuration mistake deserves a sentence, not a traceback.
        print(f"regui: {exc}", file=sys.stderr)
        sys.exit(2)
    except OperationalError as exc:
        # Mostly a database that cannot be reached (down, a wrong host, port or password): say so in one
        # line. The driver's words name the host, never the password.
        said = " ".join(str(exc).split())
        print(f"regui: cannot use the database (DATABASE_URL): {said}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
