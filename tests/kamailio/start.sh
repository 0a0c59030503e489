#!/bin/sh
# Start a Kamailio XCAP server (xhttp + xcap_server) on 127.0.0.1 for tests and manual runs.
#
# usage: start.sh [-p PORT] [-d DBDIR] [-w N] [--dbtext | --postgres URL] [--auth] [--close] [--fg]
#                 [--debug N]
#        start.sh --check [--postgres URL]
#   -p PORT    TCP port (default 5080); XCAP root is http://127.0.0.1:PORT/xcap-root/
#   -d DBDIR   scratch dir: xcap.sqlite (or dbtext/), kamailio.pid, kamailio.log, run/
#              (default $TMPDIR/xcap-kamailio); the DB is created from the packaged schema
#   --auth     HTTP Digest (realm "xcap", every user's password "secret"; env XCAP_PASSWORD overrides)
#   --close    close the TCP connection after every reply (default keeps it open)
#   --fg       run in the foreground (exec; logs to stderr; Ctrl-C stops)
#   --dbtext   store in db_text (DBDIR/dbtext/, in memory, flushed at stop) instead of sqlite:
#              safe with -w N>1
#   --postgres URL  store in PostgreSQL through db_postgres, e.g.
#              postgres://xcap@127.0.0.1:5432/xcap; the database must hold Kamailio's version and
#              xcap tables (tests/_postgres.ts creates them): safe with -w N>1. With --check: also
#              report whether db_postgres is installed
#   -w N       TCP worker processes (default 1; sqlite + N>1 => concurrent PUT/DELETE may get 500
#              'database is locked')
#   --debug N  kamailio log level (default 2; 3 = debug, shows xcap_server's xpath logs)
#   --check    only report whether kamailio, its modules and the tools this script needs are
#              installed (exit 0) or what is missing (exit 1); starts nothing
# Background mode waits until GET /xcap-root/xcap-caps/global/index answers, prints the PID and
# exits 0. Exit 3: the port was taken (pick another and retry); exit 1: any other start failure
# (log tail printed). Packages (Debian/Ubuntu):
#   apt-get install kamailio kamailio-presence-modules kamailio-sqlite-modules sqlite3 curl
#   (--postgres: also kamailio-postgres-modules)
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
CFG="$HERE/kamailio-xcap.cfg"
PORT=5080
DBDIR=${TMPDIR:-/tmp}/xcap-kamailio
FG=0
DEBUG=2
WORKERS=1
DBTEXT=0
POSTGRES=""
CHECK=0
EXTRA=""

while [ $# -gt 0 ]; do
	case "$1" in
		-p) PORT=$2; shift 2 ;;
		-d) DBDIR=$2; shift 2 ;;
		-w) WORKERS=$2; shift 2 ;;
		--auth) EXTRA="$EXTRA -A WITH_AUTH"; shift ;;
		--dbtext) DBTEXT=1; shift ;;
		--postgres) POSTGRES=$2; shift 2 ;;
		--close) EXTRA="$EXTRA -A WITH_CLOSE"; shift ;;
		--fg) FG=1; shift ;;
		--debug) DEBUG=$2; shift 2 ;;
		--check) CHECK=1; shift ;;
		-h|--help) sed -n '2,28p' "$0"; exit 0 ;;
		*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
done

# kamailio lives in /usr/sbin, which is not on a normal user's PATH on Debian
KAMAILIO=$(command -v kamailio 2>/dev/null || true)
if [ -z "$KAMAILIO" ]; then
	for k in /usr/sbin/kamailio /usr/local/sbin/kamailio; do
		if [ -x "$k" ]; then KAMAILIO=$k; break; fi
	done
fi

# the module directory depends on the architecture (x86_64-linux-gnu, aarch64-linux-gnu, ...)
MODULES="sl pv xlog textops xhttp xcap_server auth db_sqlite db_text"
MODDIR=""
for d in /usr/lib/*/kamailio/modules /usr/lib/kamailio/modules /usr/lib64/kamailio/modules \
	/usr/local/lib/*/kamailio/modules /usr/local/lib64/kamailio/modules; do
	if [ -f "$d/xcap_server.so" ]; then MODDIR=$d; break; fi
done

missing=""
[ -n "$KAMAILIO" ] || missing="$missing kamailio"
if [ -n "$MODDIR" ]; then
	for m in $MODULES; do [ -f "$MODDIR/$m.so" ] || missing="$missing $m.so"; done
else
	missing="$missing xcap_server.so"
fi
command -v curl >/dev/null 2>&1 || missing="$missing curl"
# --check reports on both back ends
if [ "$DBTEXT" = 1 ] || [ "$CHECK" = 1 ]; then
	[ -f /usr/share/kamailio/dbtext/kamailio/xcap ] || missing="$missing dbtext-schema"
fi
if [ -n "$POSTGRES" ]; then
	if [ -z "$MODDIR" ] || [ ! -f "$MODDIR/db_postgres.so" ]; then
		missing="$missing db_postgres.so"
	fi
fi
if { [ "$DBTEXT" = 0 ] && [ -z "$POSTGRES" ]; } || [ "$CHECK" = 1 ]; then
	command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
	[ -f /usr/share/kamailio/db_sqlite/presence-create.sql ] || missing="$missing sqlite-schema"
fi
if [ -n "$missing" ]; then
	echo "missing:$missing (apt-get install kamailio kamailio-presence-modules" \
		"kamailio-sqlite-modules sqlite3 curl${POSTGRES:+ kamailio-postgres-modules})" >&2
	exit 1
fi
if [ "$CHECK" = 1 ]; then
	echo "kamailio ready: $KAMAILIO, modules in $MODDIR"
	exit 0
fi

# a process that exited but was not reaped yet (a zombie) still passes kill -0
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	case "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null)" in Z*|X*) return 1 ;; esac
}

mkdir -p "$DBDIR/run"
DBDIR=$(cd "$DBDIR" && pwd)
DB="$DBDIR/xcap.sqlite"
PIDFILE="$DBDIR/kamailio.pid"
LOG="$DBDIR/kamailio.log"

if [ -f "$PIDFILE" ] && alive "$(cat "$PIDFILE")"; then
	echo "already running: pid $(cat "$PIDFILE") (pidfile $PIDFILE)" >&2
	exit 1
fi

if [ -n "$POSTGRES" ]; then
	DB=$POSTGRES
	DBURL=$POSTGRES
	EXTRA="$EXTRA -A WITH_POSTGRES"
elif [ "$DBTEXT" = 1 ]; then
	DB="$DBDIR/dbtext"
	DBURL="text://$DB"
	EXTRA="$EXTRA -A WITH_DBTEXT"
	if [ ! -s "$DB/xcap" ]; then
		mkdir -p "$DB"
		printf 'id(int,auto) table_name(string) table_version(int) \n0:version:1\n1:xcap:4\n' >"$DB/version"
		cp /usr/share/kamailio/dbtext/kamailio/xcap "$DB/xcap"
	fi
else
	DBURL="sqlite:///$DB"   # 4 slashes = absolute path
	if [ ! -s "$DB" ]; then
		SQLDIR=/usr/share/kamailio/db_sqlite
		{
			cat "$SQLDIR/standard-create.sql"
			# only the xcap table (+ its version row) out of the presence schema
			sed -n "/^CREATE TABLE xcap (/,/^INSERT INTO version .*'xcap'/p" "$SQLDIR/presence-create.sql"
		} | sqlite3 "$DB"
	fi
fi

PW=${XCAP_PASSWORD:-secret}
set -- -f "$CFG" -L "$MODDIR" -A "XCAP_PORT=$PORT" -A "XCAP_WORKERS=$WORKERS" \
	-A "XCAP_DBURL=\"$DBURL\"" -A "XCAP_PASSWORD=\"$PW\"" $EXTRA \
	-DD -E --debug="$DEBUG" -m 64 -M 16 -Y "$DBDIR/run" -w "$DBDIR" -P "$PIDFILE"

if [ "$FG" = 1 ]; then
	exec "$KAMAILIO" "$@"
fi

# no stdin/stdout/stderr of ours: a caller reading our output sees EOF as soon as we exit
nohup "$KAMAILIO" "$@" >"$LOG" 2>&1 </dev/null &
KPID=$!

failed() {
	if grep -q "Address already in use" "$LOG" 2>/dev/null; then
		echo "port $PORT on 127.0.0.1 is already in use; log $LOG" >&2
		exit 3
	fi
	echo "$1; log $LOG:" >&2
	tail -n 30 "$LOG" >&2
	exit 1
}

i=0
while [ $i -lt 150 ]; do
	alive "$KPID" || failed "kamailio exited during start-up"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
		"http://127.0.0.1:$PORT/xcap-root/xcap-caps/global/index" 2>/dev/null || true)
	case "$code" in
		200|401) alive "$KPID" || failed "kamailio exited during start-up"
			 echo "$KPID" >"$PIDFILE"
			 echo "kamailio XCAP server up: pid $KPID http://127.0.0.1:$PORT/xcap-root/ db $DB log $LOG"
			 exit 0 ;;
	esac
	sleep 0.1
	i=$((i + 1))
done
kill "$KPID" 2>/dev/null || true
failed "kamailio did not answer on 127.0.0.1:$PORT within 15 s"
