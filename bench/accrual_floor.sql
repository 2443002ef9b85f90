-- pgbench script for bench/run's third ceiling: what PostgreSQL alone needs to write 1,000 accrual
-- events as unipoints does (set-based, one transaction), without the server, JSON or any read
-- other than the member lock. Rows per event: the member locked, an accrual, its lot, a ledger
-- entry, an idempotency key, the member's balance moved. Members are pseudo-random from :s, the
-- same in both statements. Variables: members (-D members=N).
\set s random(1, 1000000000)
SELECT count(*) FROM (SELECT m.id FROM members m
  WHERE m.tenant_id = 1 AND m.id IN (SELECT ((:s::bigint + g * 7919) * 104729) % :members + 1
                                     FROM generate_series(1, 1000) g)
  ORDER BY m.id FOR UPDATE) l;
WITH x AS (SELECT g, ((:s::bigint + g * 7919) * 104729) % :members + 1 AS m,
    'floor-' || :s || '-' || pg_backend_pid() || '-' || g AS ev,
    nextval('accruals_id_seq'::regclass) AS aid, nextval('lots_id_seq'::regclass) AS lid
    FROM generate_series(1, 1000) g),
  a AS (INSERT INTO accruals (id, tenant_id, partner_id, event_id, member_id, category, amount_minor, points,
      point_type, rule_version, multiplier, occurred_at, balance_after) OVERRIDING SYSTEM VALUE
    SELECT aid, 1, 1, ev, m, 'data', 1234, 12, 'consumption', 1, 1.0, now(), 0 FROM x ORDER BY ev),
  l AS (INSERT INTO lots (id, tenant_id, member_id, source_partner_id, point_type, points, remaining, earned_at,
      expires_at, accrual_id) OVERRIDING SYSTEM VALUE
    SELECT lid, 1, m, 1, 'consumption', 12, 12, now(), now() + interval '2 years', aid FROM x ORDER BY g),
  e AS (INSERT INTO ledger_entries (tenant_id, member_id, kind, points, source_partner_id, lot_id, ref)
    SELECT 1, m, 'accrual', 12, 1, lid, 'accrual:' || aid FROM x ORDER BY g),
  b AS (UPDATE member_balances mb SET held = mb.held + y.p, lifetime = mb.lifetime + y.p, updated_at = now()
    FROM (SELECT m, 12 * count(*) AS p FROM x GROUP BY m) y WHERE mb.tenant_id = 1 AND mb.member_id = y.m),
  k AS (INSERT INTO idempotency_keys (tenant_id, scope, kind, client_id, request_hash, status)
    SELECT 1, 1, 'accrual', ev, md5(ev) || md5(aid::text), 201 FROM x ORDER BY ev)
SELECT count(*) FROM x;
