#!/usr/bin/env bash
# Every benchmark in one go; each replaces its own section of bench/RESULTS.md. About 2 hours on 2 cores (the Garmin routes wait for the Garmin pacer's 2 requests/s).
# Scaling needs PostgreSQL and Redis on 127.0.0.1 (it skips with a note when either is down).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
LATENCY_MS=${LATENCY_MS:-50}
"$PY" bench/webhook_ack.py --latency-ms "$LATENCY_MS" --write-results
"$PY" bench/time_to_destination.py --latency-ms "$LATENCY_MS" --write-results
"$PY" bench/withings_history.py --latency-ms "$LATENCY_MS" --write-results
"$PY" bench/footprint.py --latency-ms "$LATENCY_MS" --write-results
"$PY" bench/backfill_hevy.py --latency "$(awk "BEGIN {print $LATENCY_MS / 1000}")" --write-results
"$PY" bench/hevy_garmin_history.py --latency-ms "$LATENCY_MS" --write-results
"$PY" bench/dashboard.py --append-results
if pg_isready -q -h 127.0.0.1 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  "$PY" bench/scaling.py --latency-ms "$LATENCY_MS" --write-results
else
  echo "scaling skipped: PostgreSQL or Redis is not running on 127.0.0.1" >&2
fi
