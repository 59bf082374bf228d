import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regui.settings")
try:
    application = get_wsgi_application()
except ImproperlyConfigured as exc:
    # A configuration mistake: one line, as manage.py says it, not gunicorn's traceback of a worker that
    # failed to boot. Status 4 is gunicorn's "App failed to load": it stops instead of booting more workers.
    print(f"regui: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(4) from None
