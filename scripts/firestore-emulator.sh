#!/usr/bin/env bash
# Start or stop Google's Firestore emulator on 127.0.0.1 for trying FireBackup, tests and
# benchmarks.
#   source scripts/firestore-emulator.sh start   # exports FIRESTORE_EMULATOR_HOST
#   scripts/firestore-emulator.sh stop
# The port is 8085; set FIRESTORE_EMULATOR_PORT to use another (for both start and stop).
# The jar comes with the Google Cloud CLI (component cloud-firestore-emulator); set
# FIRESTORE_EMULATOR_JAR to use another location.
#
# start refuses a port something else already listens on (it would otherwise report that
# other program as the emulator), and stop only ever stops the process start launched.
JAR="${FIRESTORE_EMULATOR_JAR:-/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar}"
PORT="${FIRESTORE_EMULATOR_PORT:-8085}"
STATE="${TMPDIR:-/tmp}/firebackup-firestore-emulator-$PORT"
PIDFILE="$STATE.pid"
LOG="$STATE.log"

# True when the emulator process recorded in the PID file is alive (and is the emulator,
# not an unrelated process that got the same PID later).
_fb_emulator_alive() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  kill -0 "$pid" 2>/dev/null && grep -q CloudFirestore "/proc/$pid/cmdline" 2>/dev/null
}

# True when something accepts connections on the port.
_fb_port_taken() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

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
  if _fb_emulator_alive; then
    export FIRESTORE_EMULATOR_HOST="127.0.0.1:$PORT"
    echo "Firestore emulator already running at $FIRESTORE_EMULATOR_HOST (pid $(cat "$PIDFILE"))"
    return 0 2>/dev/null || exit 0
  fi
  rm -f "$PIDFILE"
  if _fb_port_taken; then
    echo "!! Port $PORT on 127.0.0.1 is already taken by another program, not an emulator this script started." >&2
    echo "!! Stop that program, or pick another port: FIRESTORE_EMULATOR_PORT=8086 source scripts/firestore-emulator.sh start" >&2
    return 1 2>/dev/null || exit 1
  fi
  java -Duser.language=en -cp "$JAR" com.google.cloud.datastore.emulator.firestore.CloudFirestore \
    start --host=127.0.0.1 --port="$PORT" >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 150); do
    # The process itself, not its command line: right after the fork it is still this
    # shell until it execs java, and a cmdline check there would misread it as dead.
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      rm -f "$PIDFILE"
      echo "!! The Firestore emulator exited while starting; see $LOG:" >&2
      tail -5 "$LOG" >&2
      return 1 2>/dev/null || exit 1
    fi
    if curl -fs "http://127.0.0.1:$PORT/" >/dev/null 2>&1; then
      export FIRESTORE_EMULATOR_HOST="127.0.0.1:$PORT"
      echo "Firestore emulator ready at $FIRESTORE_EMULATOR_HOST (pid $(cat "$PIDFILE"))"
      return 0 2>/dev/null || exit 0
    fi
    sleep 0.2
  done
  echo "!! Firestore emulator did not answer within 30 s; see $LOG" >&2
  kill -TERM "$(cat "$PIDFILE")" 2>/dev/null
  rm -f "$PIDFILE"
  return 1 2>/dev/null || exit 1
  ;;
stop)
  if ! _fb_emulator_alive; then
    rm -f "$PIDFILE"
    echo "No Firestore emulator started by this script is running on port $PORT."
    return 0 2>/dev/null || exit 0
  fi
  pid="$(cat "$PIDFILE")"
  kill -TERM "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$PIDFILE"
  echo "Stopped the Firestore emulator (pid $pid) on port $PORT."
  ;;
*)
  echo "usage: source scripts/firestore-emulator.sh start | scripts/firestore-emulator.sh stop" >&2
  return 2 2>/dev/null || exit 2
  ;;
esac
