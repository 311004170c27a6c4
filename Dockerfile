# fitsync: one image for the web process and the worker.
#   docker build -t fitsync .
#   docker run -p 127.0.0.1:8000:8000 --env-file .env -v fitsync-data:/app/data fitsync   # web
#   docker run --env-file .env -v fitsync-data:/app/data fitsync worker                   # worker
# The application code belongs to root and is read-only for the user the processes run as (fitsync), which
# writes only to /app/data (0700: the SQLite database, and the first admin password until you delete it).
FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# 3.12.6 fixed CVE-2024-7592 (a crafted Cookie header parsed in quadratic time).
RUN python -c 'import sys; assert sys.version_info >= (3, 12, 6), sys.version'
RUN python -m venv /venv
COPY requirements.lock /tmp/requirements.lock
RUN /venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.lock

FROM python:3.12-slim
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 FITSYNC_DATA_DIR=/app/data
RUN useradd --create-home --uid 10001 fitsync
COPY --from=build /venv /venv
WORKDIR /app
COPY . /app
# collectstatic needs settings but no real secrets; these throwaway values never reach runtime.
RUN DEBUG=0 SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build-only \
    FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS1ub3QtYS1rZXktYnVpbGQtb25seS0= FITSYNC_ENV_FILE= \
    python manage.py collectstatic --noinput --verbosity 0 \
 && chown -R root:root /app && chmod -R a+rX,go-w /app \
 && rm -rf /app/data && mkdir -m 0700 /app/data && chown fitsync:fitsync /app/data
USER fitsync
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"
ENTRYPOINT ["/app/docker-entrypoint.sh"]
CMD ["web"]
