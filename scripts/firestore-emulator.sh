#!/usr/bin/env bash
# Start or stop Google's Firestore emulator on 127.0.0.1 for tests and benchmarks.
#   source scripts/firestore-emulator.sh start   # exports FIRESTORE_EMULATOR_HOST
#   scripts/firestore-emulator.sh stop
# The jar comes with the Google Cloud CLI (component cloud-firestore-emulator); set
# FIRESTORE_EMULATOR_JAR to use another location.
JAR="${FIRESTORE_EMULATOR_JAR:-/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar}"
PORT="${FIRESTORE_EMULATOR_PORT:-8085}"
PIDFILE="${TMPDIR:-/tmp}/firebackup-firestore-emulator.pid"

case "${1:-}" in
start)
  if [ ! -f "$JAR" ] || ! command -v java >/dev/null 2>&1; then
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    echo "!! Firestore emulator NOT AVAILABLE (jar: $JAR, java: $(command -v java || echo missing))."
    echo "!! Tests that need Firestore will be SKIPPED. Install the Google Cloud CLI"
    echo "!! component cloud-firestore-emulator and Java 17+, or set FIRESTORE_EMULATOR_JAR."
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    return 1 2>/dev/null || exit 1
  fi
  java -Duser.language=en -cp "$JAR" com.google.cloud.datastore.emulator.firestore.CloudFirestore \
    start --host=127.0.0.1 --port="$PORT" >"${TMPDIR:-/tmp}/firebackup-firestore-emulator.log" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 150); do
    if curl -fs "http://127.0.0.1:$PORT/" >/dev/null 2>&1; then
      export FIRESTORE_EMULATOR_HOST="127.0.0.1:$PORT"
      echo "Firestore emulator ready at $FIRESTORE_EMULATOR_HOST (pid $(cat "$PIDFILE"))"
      return 0 2>/dev/null || exit 0
    fi
    sleep 0.2
  done
  echo "!! Firestore emulator did not answer within 30 s; see ${TMPDIR:-/tmp}/firebackup-firestore-emulator.log"
  return 1 2>/dev/null || exit 1
  ;;
stop)
  if [ -f "$PIDFILE" ]; then
    kill -TERM "$(cat "$PIDFILE")" 2>/dev/null || true
    rm -f "$PIDFILE"
  fi
  ;;
*)
  echo "usage: source scripts/firestore-emulator.sh start | scripts/firestore-emulator.sh stop" >&2
  exit 2
  ;;
esac
