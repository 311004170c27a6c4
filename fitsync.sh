#!/usr/bin/env bash
# fitsync: one command to set up and run, one to test.
#
#   ./fitsync.sh run     set up everything (virtualenv, packages, database, static files, admin user)
#                        and run the web server and the worker together; Ctrl-C stops both
#   ./fitsync.sh test    set up, start PostgreSQL/Redis if DATABASE_URL/REDIS_URL name local ones, run the tests
#   ./fitsync.sh demo    run fitsync against the sandbox upstreams with seeded demo data, in data/demo/
#                        (--reset wipes the demo's data first; the real instance's is never touched)
#   ./fitsync.sh setup   only the set-up steps of `run`
#   ./fitsync.sh manage <command...>   a manage.py command in the virtualenv, with .env
set -euo pipefail
# Everything fitsync writes (.env, the database, its WAL files) is its user's alone from the first byte.
umask 077
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$PWD
VENV=${FITSYNC_VENV:-$ROOT/.venv}
PY=$VENV/bin/python

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'fitsync: %s\n' "$*" >&2; exit 1; }

# 3.12.6 fixed CVE-2024-7592: older versions parse a crafted Cookie header in quadratic time.
is_modern_python() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12, 6))' >/dev/null 2>&1; }

# A Python >= 3.12.6: $FITSYNC_PYTHON, then python3.x on PATH, then pyenv's versions (whose shims
# refuse to run unless that version is selected, so we call the interpreters directly).
find_python() {
  local candidate
  for candidate in "${FITSYNC_PYTHON:-}" python3.14 python3.13 python3.12 python3 \
      $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if is_modern_python "$candidate"; then command -v "$candidate"; return 0; fi
  done
  die "no Python >= 3.12.6 found: install one, or set FITSYNC_PYTHON=/path/to/python3.12"
}

# Installs a lock file (every package, transitive ones too, pinned with its hashes); the development
# lock contains the runtime one, so a virtualenv set up for the tests also serves `run`.
ensure_venv() {
  local lock=$1
  if [ ! -x "$PY" ] || ! is_modern_python "$PY"; then
    local python; python=$(find_python)
    say "creating virtualenv with $python"
    rm -rf "$VENV"; "$python" -m venv "$VENV"
  fi
  is_installed "$lock" && return 0
  [ "$lock" = requirements.lock ] && is_installed requirements-dev.lock && return 0
  say "installing $lock"
  "$PY" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$lock"
  lock_digest "$lock" > "$VENV/.installed-$lock"
}

lock_digest() { sha256sum "$1" | cut -c1-16; }
is_installed() { [ "$(cat "$VENV/.installed-$1" 2>/dev/null)" = "$(lock_digest "$1")" ]; }

# A .env with fresh secrets on first run, created 0600 before its first byte; never overwritten.
ensure_env_file() {
  local file=${FITSYNC_ENV_FILE:-$ROOT/.env}
  [ -f "$file" ] && return 0
  say "writing $file with new secrets"
  "$PY" - "$file" <<'EOF'
import secrets, sys
from pathlib import Path
from cryptography.fernet import Fernet
from fitsync.private_files import write_private
write_private(Path(sys.argv[1]), f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
              f"FIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
              "DEBUG=0\nSITE_URL=http://127.0.0.1:8000\n")
EOF
}

setup() {
  ensure_venv requirements.lock
  ensure_env_file
  say "migrating the database"
  # migrate also runs the database checks: with DEBUG=0 it refuses a database holding the demo login.
  "$PY" manage.py migrate --noinput
  "$PY" manage.py createcachetable
  "$PY" manage.py collectstatic --noinput --verbosity 0
  "$PY" manage.py ensure_admin --show-at-start
}

# The web server and the worker, each in its own session under one supervisor that alone decides how they
# stop (fitsync/supervisor.py). Ctrl-C reaches it from the terminal, which signals the whole foreground
# group; a SIGTERM or SIGHUP sent to this script is passed on to it.
serve() {
  trap '' INT
  "$PY" manage.py serve --bind "${FITSYNC_BIND:-127.0.0.1:8000}" &
  local supervisor=$! status
  trap "kill -TERM $supervisor 2>/dev/null || true" TERM HUP
  while :; do
    wait "$supervisor" && status=0 || status=$?
    # A status above 128 with the supervisor still alive: a trapped signal ended the wait, not the supervisor.
    if [ "$status" -gt 128 ] && kill -0 "$supervisor" 2>/dev/null; then continue; fi
    return "$status"
  done
}

is_local_url() { [[ "$1" =~ @?(127\.0\.0\.1|localhost)(:|/|$) ]]; }

ensure_services() {
  if [[ "${DATABASE_URL:-}" == postgres* ]] && is_local_url "$DATABASE_URL" && ! pg_isready -q -h 127.0.0.1; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  fi
  if [ -n "${REDIS_URL:-}" ] && is_local_url "$REDIS_URL" && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    say "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /tmp --logfile /tmp/fitsync-redis.log
  fi
  if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || say "could not install chromium: browser tests will be skipped"
  fi
}

run_tests() {
  ensure_venv requirements-dev.lock
  ensure_services
  "$PY" -m pytest "$@"
}

# The demo lives in data/demo/ (its own database and .env), so the real instance never sees the demo
# login or its fake workouts; it always runs on SQLite, whatever DATABASE_URL the shell has.
demo() {
  local dir=$ROOT/data/demo
  if [ "${1:-}" = --reset ]; then say "wiping the demo's data ($dir)"; rm -rf "$dir"; fi
  unset DATABASE_URL REDIS_URL
  export FITSYNC_DATA_DIR=$dir FITSYNC_ENV_FILE=$dir/.env
  ensure_venv requirements.lock
  ensure_env_file
  local port=${FITSYNC_SANDBOX_PORT:-8765} bind=${FITSYNC_BIND:-127.0.0.1:8000}
  # demo_env is the sandbox app's: on a first run the env file does not switch the sandbox on yet.
  FITSYNC_SANDBOX=1 DEBUG=1 "$PY" manage.py demo_env "$FITSYNC_ENV_FILE" --data-dir "$dir" \
      --sandbox-url "http://127.0.0.1:$port" --site-url "http://$bind"
  setup
  "$PY" manage.py sandbox_serve --seed --port "$port" &
  # Expanded now: the EXIT trap may run after demo() returned and its locals are gone.
  trap "kill $! 2>/dev/null || true" EXIT
  "$PY" manage.py seed_demo
  serve
}

manage() {
  ensure_venv requirements.lock
  exec "$PY" manage.py "$@"
}

# Sourced (the tests do): the functions only.
[[ "${BASH_SOURCE[0]}" != "$0" ]] && return 0

case "${1:-}" in
  run) setup; serve ;;
  setup) setup ;;
  test) shift; run_tests "$@" ;;
  demo) shift; demo "$@" ;;
  manage) shift; manage "$@" ;;
  *) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
