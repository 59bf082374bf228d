FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 REGUI_DATA_DIR=/data REGUI_ENV_FILE=
RUN apt-get update && apt-get install -y --no-install-recommends openssh-client && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --system --home /data regui && mkdir -p /data && chown regui /data
USER regui
EXPOSE 8000
# Checks (keys, database) run before serving, so a wrong key stops the container with a message.
# gunicorn as bin/run starts it (the same variables size and time it; no control socket in /data).
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py check --fail-level ERROR && python manage.py ensure_admin && exec gunicorn regui.wsgi:application --bind 0.0.0.0:8000 --workers \"${REGUI_WEB_WORKERS:-2}\" --threads \"${REGUI_WEB_THREADS:-4}\" --timeout \"${REGUI_REQUEST_TIMEOUT:-30}\" --graceful-timeout 10 --limit-request-line 8190 --limit-request-fields 100 --access-logfile - --error-logfile - --no-control-socket"]
