#!/usr/bin/env bash
# The console's call log over a big store: 1,000,000 calls (ROWS) written straight into a fresh
# daemon's switchboard.db, then the daemon serves Calls.json pages as the console asks for them
# (PageSize=50, the next page by next_page_uri's keyset PageToken), with and without the filters
# the call log offers (To, Status, a StartTime range). Reports p50/p99/max ms per page over PAGES
# pages of each kind, measured from the client (curl's time_total) on 127.0.0.1.
#
#   bench/console/call_log.sh [ROWS] [PAGES]
#
# BIN (default build/release/src/switchboard) is the daemon measured.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1000000}
PAGES=${2:-200}
BIN=${BIN:-build/release/src/switchboard}
[ -x "$BIN" ] || { echo "no $BIN: build Release first (make release)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "needs sqlite3" >&2; exit 2; }
WORK=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export SWITCHBOARD_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef
export SWITCHBOARD_AUTH_TOKEN=0123456789abcdef0123456789abcdef
SID=$SWITCHBOARD_ACCOUNT_SID TOKEN=$SWITCHBOARD_AUTH_TOKEN

start() {
  "$BIN" serve --data-dir "$WORK" --http-listen 127.0.0.1:0 --sip-listen 127.0.0.1:0 \
    > "$WORK/out.log" 2>&1 & PID=$!
  for _ in $(seq 200); do grep -q "listening:" "$WORK/out.log" && break; sleep 0.05; done
  BASE=$(awk '/listening:/ {print $2}' "$WORK/out.log")
}
start
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=

# 1,000,000 calls over 30 days, ten numbers, statuses as a busy account has them.
echo "writing $ROWS calls"
sqlite3 "$WORK/switchboard.db" <<SQL
PRAGMA journal_mode=WAL;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO calls (sid, account_sid, to_number, from_number, status, direction, start_time,
                   end_time, duration, date_created, date_updated)
SELECT printf('CA%032x', i), '$SID', printf('+1500555%04d', i % 10), printf('+1415555%04d', i % 9973),
       CASE WHEN i % 20 = 0 THEN 'busy' WHEN i % 31 = 0 THEN 'no-answer' ELSE 'completed' END,
       'inbound', 1793750400 + i * 2, 1793750400 + i * 2 + 60, 60,
       1793750400 + i * 2, 1793750400 + i * 2 + 60
FROM n;
SQL
start
echo "daemon at $BASE; $(du -h "$WORK/switchboard.db" | cut -f1) of store"

pages() {  # $1: label, $2: query
  local url="/2010-04-01/Accounts/$SID/Calls.json?PageSize=50$2" times=()
  for _ in $(seq "$PAGES"); do
    local out
    out=$(curl -s -u "$SID:$TOKEN" -w '\n%{time_total}' "$BASE$url")
    times+=("$(tail -n1 <<<"$out")")
    url=$(head -n -1 <<<"$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_page_uri"] or "")')
    [ -n "$url" ] || break
  done
  printf '%s\n' "${times[@]}" | python3 -c '
import sys
t = sorted(float(x) * 1000 for x in sys.stdin.read().split())
p = lambda q: t[min(len(t) - 1, int(q * len(t)))]
print(f"'"$1"': {len(t)} pages, p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {t[-1]:.1f} ms")'
}
pages "all calls, newest first" ""
pages "To=+15005550003" "&To=%2B15005550003"
pages "Status=busy" "&Status=busy"
pages "StartTime range (one day)" "&StartTime%3E=2026-11-20&StartTime%3C=2026-11-21"
pages "StartTime< only (every call before a day)" "&StartTime%3C=2026-11-20"
pages "all calls, from the middle (PageToken at call 500,000)" "&PageToken=PA500000"
pages "Status=no-answer and To" "&Status=no-answer&To=%2B15005550007"
