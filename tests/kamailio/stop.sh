#!/bin/sh
# Stop the Kamailio XCAP server started by start.sh, by its PID file.
# usage: stop.sh [-d DBDIR] | stop.sh [DBDIR]
#   -d DBDIR   the scratch dir given to start.sh -d (default $TMPDIR/xcap-kamailio); the PID file
#              is DBDIR/kamailio.pid. A bare DBDIR (the older form) works too.
# Sends SIGTERM to the main process (which stops its children), waits up to 10 s, then SIGKILLs
# that PID only. Exit 0 also when it was not running.
set -u
DBDIR=${TMPDIR:-/tmp}/xcap-kamailio
while [ $# -gt 0 ]; do
	case "$1" in
		-d)
			[ $# -ge 2 ] || { echo "-d needs a directory" >&2; exit 2; }
			DBDIR=$2; shift 2 ;;
		-h|--help) sed -n '2,8p' "$0"; exit 0 ;;
		-*) echo "unknown argument: $1" >&2; exit 2 ;;
		*) DBDIR=$1; shift ;;
	esac
done
PIDFILE="$DBDIR/kamailio.pid"

# a process that exited but was not reaped yet (a zombie) still passes kill -0; kamailio's parent
# (start.sh) is gone, so it waits for PID 1 to reap it, which can take seconds
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	case "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null)" in Z*|X*) return 1 ;; esac
}

if [ ! -f "$PIDFILE" ]; then
	echo "no pid file $PIDFILE: not running?"
	exit 0
fi
PID=$(cat "$PIDFILE")
case "$PID" in ''|*[!0-9]*) echo "bad pid file $PIDFILE" >&2; exit 1 ;; esac

if ! alive "$PID"; then
	echo "pid $PID not running; removing stale $PIDFILE"
	rm -f "$PIDFILE"
	exit 0
fi
# refuse to signal something that is not kamailio
if [ "$(cat "/proc/$PID/comm" 2>/dev/null)" != "kamailio" ]; then
	echo "pid $PID is not kamailio; not touching it" >&2
	exit 1
fi

kill -TERM "$PID"
i=0
while alive "$PID" && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
if alive "$PID"; then
	echo "pid $PID still alive after 10 s; sending SIGKILL" >&2
	kill -KILL "$PID" 2>/dev/null || true
fi
rm -f "$PIDFILE"
echo "stopped kamailio pid $PID"
