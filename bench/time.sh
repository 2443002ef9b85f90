#!/usr/bin/env bash
# The year-end jobs at scale: a fresh database with one tenant of MEMBERS members, each holding one
# lot that expired at the end of 2025 (Asia/Shanghai) and one live lot, with the matching accruals,
# ledger entries and balances. Times
#   1. `unipoints expire` of all MEMBERS expired lots (CARRY% carry-over, default 10: a carry lot and
#      entry each),
#      while a client posts single accruals to random members through the real server and records
#      their latencies (baseline first, then during the job);
#   2. `unipoints regrade` of all MEMBERS members (one set-based statement);
#   3. `unipoints verify` of the result.
#
#   bench/time.sh                 # 1,000,000 members, ./dev's database server, the ci build
#   MEMBERS=100000 CARRY=0 bench/time.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
PRESET="${UNIPOINTS_PRESET:-ci}"
MEMBERS="${MEMBERS:-1000000}"
CARRY="${CARRY:-10}"  # carry-over percentage: 0 for a plain year-end clearance
BIN="$ROOT/build/$PRESET/unipoints"
[[ -x "$BIN" ]] || ./dev setup >/dev/null
SERVER_URL="${UNIPOINTS_DATABASE_URL:-$(./dev db 2>/dev/null | tail -n 1)}"
BASE_URL="${SERVER_URL%/*}"
DB=unipoints_bench_time
PORT="${BENCH_PORT:-18089}"
psql -q "$SERVER_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export UNIPOINTS_DATABASE_URL="$BASE_URL/$DB" UNIPOINTS_LOG_LEVEL=warn
export UNIPOINTS_IDENTITY_HASH_KEY="${UNIPOINTS_IDENTITY_HASH_KEY:-$(printf 'ab%.0s' {1..32})}"
"$BIN" migrate >/dev/null
"$BIN" tenant create --code BENCH --name "年终基准 Bench" --currency CNY --time-zone Asia/Shanghai >/dev/null
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }

echo "loading $MEMBERS members with 2 lots each ..."
load_start=$(date +%s.%N)
psql -q -v ON_ERROR_STOP=1 "$UNIPOINTS_DATABASE_URL" <<SQL
\set members $MEMBERS
INSERT INTO tenant_policies (tenant_id, expiry_kind, expiry_n, carry_over_percent)
  VALUES (1, 'calendar_years', 1, $CARRY);
INSERT INTO tier_policies (tenant_id, window_months, cadence, levels, updated_at)
  VALUES (1, 12, 'yearly', '[{"code":"normal","min_points":0},{"code":"silver","min_points":300},
                            {"code":"gold","min_points":700}]', '2025-01-01T00:00:00+08:00');
INSERT INTO partners (tenant_id, code, name, kind) VALUES (1, 'T', '电信', 'telecom'), (1, 'R', '零售', 'retail');
INSERT INTO members (tenant_id, name, gender, id_type, id_hash, id_masked)
  SELECT 1, 'm' || g, 'unknown', 'other', 'h' || g, '*' FROM generate_series(1, :members) g;
-- One 2025 accrual (expired at the end of 2025) and one 2026 accrual (live) per member.
INSERT INTO accruals (tenant_id, partner_id, event_id, member_id, points, point_type, occurred_at)
  SELECT 1, 1 + m.id % 2, 'old-' || m.id, m.id, 100 + m.id % 900, 'bonus', '2025-06-01T10:00:00+08:00'
  FROM members m WHERE m.tenant_id = 1;
INSERT INTO accruals (tenant_id, partner_id, event_id, member_id, points, point_type, occurred_at)
  SELECT 1, 1 + m.id % 2, 'new-' || m.id, m.id, 50, 'bonus', '2026-06-01T10:00:00+08:00'
  FROM members m WHERE m.tenant_id = 1;
INSERT INTO lots (tenant_id, member_id, source_partner_id, point_type, points, remaining, earned_at, expires_at,
                  accrual_id)
  SELECT 1, a.member_id, a.partner_id, a.point_type, a.points, a.points, a.occurred_at,
         make_timestamptz(extract(year FROM a.occurred_at AT TIME ZONE 'Asia/Shanghai')::int + 1, 1, 1, 0, 0, 0,
                          'Asia/Shanghai'), a.id
  FROM accruals a WHERE a.tenant_id = 1;
INSERT INTO ledger_entries (tenant_id, member_id, kind, points, source_partner_id, lot_id, ref)
  SELECT 1, l.member_id, 'accrual', l.points, l.source_partner_id, l.id, 'accrual:' || l.accrual_id
  FROM lots l WHERE l.tenant_id = 1 ORDER BY l.id;
INSERT INTO member_balances (tenant_id, member_id, lifetime, held)
  SELECT 1, member_id, sum(points), sum(points) FROM lots WHERE tenant_id = 1 GROUP BY member_id;
INSERT INTO earning_rule_versions (tenant_id, partner_id, version, effective_from, body)
  VALUES (1, 1, 1, '2020-01-01T00:00:00+08:00',
          '{"rules":[{"category":"data","points_per_unit":2,"unit_minor":100,"point_type":"consumption"}],"promotions":[]}');
SQL
# What autovacuum would long since have done to a year's lots before the year end: hint bits set,
# visibility map current, statistics fresh. And a checkpoint, so that the timed steps start clean.
psql -q "$UNIPOINTS_DATABASE_URL" -c "VACUUM ANALYZE" -c "CHECKPOINT"
echo "loaded in $(secs "$load_start" "$(date +%s.%N)") s: $(psql -tA "$UNIPOINTS_DATABASE_URL" -c \
  "SELECT count(*) FROM lots WHERE expires_at <= now() AND remaining > 0") expired lots with points"

# The server, for accrual traffic during the job (its own scheduler off: the CLI runs the job).
UNIPOINTS_LISTEN="127.0.0.1:$PORT" UNIPOINTS_SCHEDULER_INTERVAL_MS=0 "$BIN" serve >/tmp/unipoints-bench-time.log 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
# Keys are hashed at rest: mint a partner key for T directly with the server's format.
SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
KEY="upk_1_$SECRET"
psql -q "$UNIPOINTS_DATABASE_URL" -c "INSERT INTO api_keys (tenant_id, role, partner_id, label, key_hash)
  VALUES (1, 'partner', 1, 'bench', encode(sha256('$KEY'::bytea), 'hex'))"

# Posts single accruals to random members until $1 exists; one latency (ms) per line in $2.
accrual_load() {
  local stop_file=$1 out=$2 i=0
  : >"$out"
  while [[ ! -e "$stop_file" ]]; do
    i=$((i + 1))
    member=$(( (RANDOM * 32768 + RANDOM) % MEMBERS + 1 ))
    curl -s -o /dev/null -w "%{http_code} %{time_total} $(date +%s.%N)\n" -X POST "http://127.0.0.1:$PORT/v1/accruals" \
      -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
      -d "{\"event_id\":\"load-$out-$i\",\"member_id\":$member,\"category\":\"data\",\"amount_minor\":1234,\"occurred_at\":\"2026-11-01T10:00:00+08:00\"}" \
      >>"$out"
  done
}
summary() {
  python3 - "$1" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
ok = sorted(float(r[1]) * 1000 for r in rows if r[0] == "201")
bad = sum(1 for r in rows if r[0] != "201")
t0 = float(rows[0][2]) if rows else 0
slow = sorted(((float(r[1]), float(r[2]) - t0) for r in rows), reverse=True)[:3]
if not ok:
    print("no accruals"); sys.exit()
q = lambda p: ok[min(len(ok) - 1, int(p * len(ok)))]
print(f"{len(ok)} accruals, {bad} errors, p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms, max {ok[-1]:.1f} ms"
      + " (slowest sent at +" + ", +".join(f"{at:.1f} s" for _, at in slow) + ")")
PY
}

rm -f /tmp/unipoints-bench-stop
accrual_load /tmp/unipoints-bench-stop /tmp/unipoints-bench-base.txt &
LOAD=$!
sleep 5
touch /tmp/unipoints-bench-stop
wait $LOAD
echo "accruals before the job (one client, curl per request): $(summary /tmp/unipoints-bench-base.txt)"

rm -f /tmp/unipoints-bench-stop
accrual_load /tmp/unipoints-bench-stop /tmp/unipoints-bench-during.txt &
LOAD=$!
start=$(date +%s.%N)
"$BIN" expire --tenant BENCH >/tmp/unipoints-bench-expiry.json
end=$(date +%s.%N)
touch /tmp/unipoints-bench-stop
wait $LOAD
python3 - "$(secs "$start" "$end")" <<'PY'
import json, sys
run = json.load(open('/tmp/unipoints-bench-expiry.json'))
c = run["counts"]
s = float(sys.argv[1])
print(f"expire: {c['lots_expired']:,} lots, {c['points_expired']:,} points expired, "
      f"{c['points_carried_over']:,} carried over into {c['carry_over_lots']:,} lots in {s} s "
      f"({c['lots_expired'] / s:,.0f} lots/s)")
PY
echo "accruals during the job: $(summary /tmp/unipoints-bench-during.txt)"

psql -q "$UNIPOINTS_DATABASE_URL" -c "CHECKPOINT"
start=$(date +%s.%N)
"$BIN" regrade --tenant BENCH --as-of 2026-01-01T00:00:00+08:00 >/tmp/unipoints-bench-regrade.json
end=$(date +%s.%N)
python3 - "$(secs "$start" "$end")" <<'PY'
import json, sys
c = json.load(open('/tmp/unipoints-bench-regrade.json'))["counts"]
print(f"regrade: {c['members']:,} members ({c['changed']:,} changed: {c['by_tier']}) in {sys.argv[1]} s, one statement")
PY

psql -q "$UNIPOINTS_DATABASE_URL" -c "CHECKPOINT"
start=$(date +%s.%N)
"$BIN" verify --tenant BENCH
echo "verify: $(secs "$start" "$(date +%s.%N)") s"
