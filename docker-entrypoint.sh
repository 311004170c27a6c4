#!/bin/sh
# Migrations on start (idempotent), then the web server or the worker.
set -e
umask 077  # what the processes write to /app/data is the container user's alone
# migrate also runs the database checks: with DEBUG=0 it refuses a database holding the demo login.
python manage.py migrate --noinput
python manage.py createcachetable
case "${1:-web}" in
  web)
    # A generated admin password goes to the data volume, not to `docker logs`.
    python manage.py ensure_admin --password-file "${FITSYNC_DATA_DIR:-/app/data}/admin-password"
    # Workers, threads, the worker class and the access log: gunicorn.conf.py.
    exec gunicorn fitsync.wsgi --bind 0.0.0.0:8000 ;;
  worker) exec python manage.py qcluster ;;
  *) exec "$@" ;;
esac
