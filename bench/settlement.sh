#!/usr/bin/env bash
# Settling a month of 10 million settlement lines: loads a fresh database with 12 partners,
# agreements for every ordered pair at asymmetric prices, 1,000,000 redemptions and 10,000,000
# settlement lines booked in 2026-10 (Asia/Shanghai), then times `unipoints settle`.
#
#   bench/settlement.sh            # uses ./dev's database server and the ci build
#   LINES_PER_REDEMPTION=10 REDEMPTIONS=1000000 bench/settlement.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
PRESET="${UNIPOINTS_PRESET:-ci}"
REDEMPTIONS="${REDEMPTIONS:-1000000}"
LINES_PER_REDEMPTION="${LINES_PER_REDEMPTION:-10}"
BIN="$ROOT/build/$PRESET/unipoints"
[[ -x "$BIN" ]] || ./dev setup >/dev/null
SERVER_URL="${UNIPOINTS_DATABASE_URL:-$(./dev db 2>/dev/null | tail -n 1)}"
BASE_URL="${SERVER_URL%/*}"
DB=unipoints_bench_settle
psql -q "$SERVER_URL" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
export UNIPOINTS_DATABASE_URL="$BASE_URL/$DB" UNIPOINTS_LOG_LEVEL=warn
"$BIN" migrate >/dev/null
"$BIN" tenant create --code BENCH --name "结算基准 Bench" --currency CNY --time-zone Asia/Shanghai >/dev/null

echo "loading $REDEMPTIONS redemptions x $LINES_PER_REDEMPTION lines ..."
load_start=$(date +%s.%N)
psql -q -v ON_ERROR_STOP=1 "$UNIPOINTS_DATABASE_URL" <<SQL
\set redemptions $REDEMPTIONS
\set per $LINES_PER_REDEMPTION
INSERT INTO partners (tenant_id, code, name, kind)
  SELECT 1, 'P' || lpad(i::text, 2, '0'), '伙伴 ' || i, 'other' FROM generate_series(1, 12) i;
INSERT INTO settlement_agreements (tenant_id, payer_partner_id, payee_partner_id, price_per_point, cycle, effective_from)
  SELECT 1, s.id, f.id, round((0.005 + ((s.id * 7 + f.id * 13) % 17) * 0.000731)::numeric, 6), 'monthly',
         '2026-01-01T00:00:00+08:00'
  FROM partners s, partners f WHERE s.tenant_id = 1 AND f.tenant_id = 1 AND s.id <> f.id;
-- A mid-month price change for one pair: its lines are priced in two parts.
INSERT INTO settlement_agreements (tenant_id, payer_partner_id, payee_partner_id, price_per_point, cycle, effective_from)
  SELECT 1, s.id, f.id, 0.012345, 'monthly', '2026-10-16T00:00:00+08:00'
  FROM partners s, partners f WHERE s.code = 'P01' AND f.code = 'P02';
INSERT INTO members (tenant_id, name, gender, id_type, id_hash, id_masked) VALUES (1, 'bench', 'unknown', 'other', 'h', '*');
INSERT INTO rewards (tenant_id, code, partner_id, name, price)
  SELECT 1, 'R' || id, id, 'reward ' || id, '{"points": 100}' FROM partners WHERE tenant_id = 1;
INSERT INTO redemptions (tenant_id, member_id, reward_id, fulfiller_partner_id, quantity, points, requested_by_key,
                         created_at)
  SELECT 1, 1, r.id, r.partner_id, 1, 100 * :per, 1,
         '2026-10-01T00:00:00+08:00'::timestamptz + (g % 2592000) * interval '1 second'
  FROM generate_series(1, :redemptions) g JOIN rewards r ON r.tenant_id = 1 AND r.id = 1 + g % 12;
INSERT INTO settlement_lines (tenant_id, redemption_id, source_partner_id, fulfiller_partner_id, points, kind,
                              booked_at)
  SELECT 1, d.id, 1 + (d.id * 31 + k * 7) % 12, d.fulfiller_partner_id, CASE WHEN k = 1 AND d.id % 50 = 0 THEN -100 ELSE 100 END,
         CASE WHEN k = 1 AND d.id % 50 = 0 THEN 'cancellation' ELSE 'redemption' END, d.created_at
  FROM redemptions d, generate_series(1, :per) k WHERE d.tenant_id = 1;
ANALYZE;
SQL
load_end=$(date +%s.%N)
lines=$(psql -tA "$UNIPOINTS_DATABASE_URL" -c "SELECT count(*) FROM settlement_lines")
echo "loaded $lines lines in $(awk -v a="$load_start" -v b="$load_end" 'BEGIN{printf "%.1f", b-a}') s"

for attempt in 1 2 3; do
  start=$(date +%s.%N)
  "$BIN" settle --tenant BENCH --period 2026-10 > /tmp/unipoints-bench-run.json
  end=$(date +%s.%N)
  echo "settle 2026-10 over $lines lines: $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}') s (run $attempt)"
done
python3 - <<'PY' 2>/dev/null || true
import json
run = json.load(open('/tmp/unipoints-bench-run.json'))
print("pairs:", len(run["pairs"]), "instructions:", len(run["instructions"]),
      "positions sum:", sum(n["net_minor"] for n in run["nets"]))
PY
