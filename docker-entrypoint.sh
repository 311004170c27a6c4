#!/bin/sh
# Migrations on start (idempotent), then the web server or the worker.
set -e
python manage.py migrate --noinput
python manage.py createcachetable
python manage.py ensure_admin
case "${1:-web}" in
  web) exec gunicorn fitsync.wsgi --bind 0.0.0.0:8000 --workers "${WEB_CONCURRENCY:-2}" --threads 4 --access-logfile - ;;
  worker) exec python manage.py qcluster ;;
  *) exec "$@" ;;
esac
