-- unipoints schema, version 16: a cancellation is settled at the price its redemption was
-- settled at. Its negative lines are booked when it happens (and settle in that period), but they
-- are priced, and cycled, under the agreement version that was in force when the redemption was
-- booked: priced_at (NULL: booked_at). Priced at the cancellation's own time, a price change in
-- between left a fully cancelled redemption with a net amount one partner gained and the other
-- lost. Lines booked before this version keep their old pricing (no backfill).
ALTER TABLE settlement_lines ADD COLUMN priced_at timestamptz;

CREATE OR REPLACE FUNCTION period_settlement_lines(p_tenant bigint, p_period text)
RETURNS TABLE (id bigint, redemption_id bigint, source_partner_id bigint, fulfiller_partner_id bigint,
               points bigint, kind text, booked_at timestamptz, price_per_point numeric, cycle text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH b AS (
    SELECT make_timestamptz(split_part(p_period, '-', 1)::int, split_part(p_period, '-', 2)::int, 1, 0, 0, 0,
                            t.time_zone) AS s,
           (make_timestamptz(split_part(p_period, '-', 1)::int, split_part(p_period, '-', 2)::int, 1, 0, 0, 0,
                             t.time_zone) AT TIME ZONE t.time_zone + interval '1 month') AT TIME ZONE t.time_zone AS e,
           split_part(p_period, '-', 2)::int AS m, t.time_zone AS tz
    FROM tenants t WHERE t.id = p_tenant),
  ag AS (
    SELECT a.payer_partner_id, a.payee_partner_id, a.price_per_point, a.cycle, a.effective_from,
           lead(a.effective_from) OVER (PARTITION BY a.payer_partner_id, a.payee_partner_id
                                        ORDER BY a.effective_from) AS until,
           CASE WHEN b.m % k.k = 0
                THEN ((b.s AT TIME ZONE b.tz) - (k.k - 1) * interval '1 month') AT TIME ZONE b.tz END AS window_start
    FROM settlement_agreements a CROSS JOIN b,
         LATERAL (SELECT CASE a.cycle WHEN 'bimonthly' THEN 2 WHEN 'quarterly' THEN 3 WHEN 'yearly' THEN 12
                         ELSE 1 END AS k) k
    WHERE a.tenant_id = p_tenant)
  SELECT sl.id, sl.redemption_id, sl.source_partner_id, sl.fulfiller_partner_id, sl.points, sl.kind, sl.booked_at,
         ag.price_per_point, coalesce(ag.cycle, 'monthly')
  FROM b JOIN settlement_lines sl
    ON sl.tenant_id = p_tenant AND sl.booked_at < b.e
   AND sl.booked_at >= ((b.s AT TIME ZONE b.tz) - interval '11 months') AT TIME ZONE b.tz
  LEFT JOIN ag ON ag.payer_partner_id = sl.source_partner_id AND ag.payee_partner_id = sl.fulfiller_partner_id
              AND coalesce(sl.priced_at, sl.booked_at) >= ag.effective_from
              AND (ag.until IS NULL OR coalesce(sl.priced_at, sl.booked_at) < ag.until)
  WHERE CASE WHEN ag.payer_partner_id IS NULL THEN sl.booked_at >= b.s
             ELSE ag.window_start IS NOT NULL AND sl.booked_at >= ag.window_start END
$$;
