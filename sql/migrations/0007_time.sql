-- unipoints schema, version 7: time. The expiry job (one expiry and at most one carry_over ledger
-- entry per lot), tiers with their history, and a record of every job run.

-- A carry-over lot remembers the lot whose expiry made it; it is never carried over again.
ALTER TABLE lots ADD COLUMN carried_from bigint;
-- The expiry job's work list: lots with points left, by expiry instant (walked in key order).
CREATE INDEX lots_due ON lots (tenant_id, expires_at, id) WHERE remaining > 0 AND expires_at IS NOT NULL;
-- The tenant of a ledger entry or lot is already checked through its member (tenant_id, member_id)
-- references members, whose tenant_id references tenants): the single-column checks only cost
-- every insert of the two busiest tables a second lookup.
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_tenant_id_fkey;
ALTER TABLE lots DROP CONSTRAINT lots_tenant_id_fkey;
-- Breakage per period: expiry and carry-over bookings by time.
CREATE INDEX ledger_breakage ON ledger_entries (tenant_id, at) WHERE kind IN ('expiry', 'carry_over');

-- The tier scheme of a tenant: levels by qualifying points earned over the last window_months,
-- re-graded at every cadence boundary (1 January; or 1 January, April, July, October) in tenant time.
CREATE TABLE tier_policies (
  tenant_id     bigint PRIMARY KEY REFERENCES tenants (id),
  window_months integer NOT NULL CHECK (window_months BETWEEN 1 AND 120),
  cadence       text NOT NULL CHECK (cadence IN ('yearly', 'quarterly')),
  levels        jsonb NOT NULL,  -- [{code, min_points}], min_points strictly increasing from 0
  updated_at    timestamptz NOT NULL
);

-- When the member's current tier began (NULL: never graded, the default tier since joining).
ALTER TABLE members ADD COLUMN tier_since timestamptz;

CREATE TABLE job_runs (
  tenant_id   bigint NOT NULL REFERENCES tenants (id),
  id          bigint GENERATED ALWAYS AS IDENTITY,
  kind        text NOT NULL CHECK (kind IN ('expiry', 'regrade')),
  trigger     text NOT NULL CHECK (trigger IN ('api', 'cli', 'schedule')),
  as_of       timestamptz NOT NULL,
  status      text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  counts      jsonb NOT NULL DEFAULT '{}'::jsonb,
  error       text,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);
-- A scheduled re-grade runs once per boundary, whichever server gets there first.
CREATE UNIQUE INDEX job_runs_scheduled_regrade ON job_runs (tenant_id, as_of)
  WHERE kind = 'regrade' AND trigger = 'schedule';
CREATE INDEX job_runs_recent ON job_runs (tenant_id, kind, id DESC);

CREATE TABLE member_tier_history (
  tenant_id         bigint NOT NULL REFERENCES tenants (id),
  id                bigint GENERATED ALWAYS AS IDENTITY,
  member_id         bigint NOT NULL,
  at                timestamptz NOT NULL,  -- the instant the new tier applies from
  from_tier         text NOT NULL,
  to_tier           text NOT NULL,
  qualifying_points bigint NOT NULL,
  job_run_id        bigint NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, job_run_id) REFERENCES job_runs (tenant_id, id)
);
CREATE INDEX member_tier_history_member ON member_tier_history (tenant_id, member_id, at DESC, id DESC);
CREATE TRIGGER member_tier_history_insert_only BEFORE UPDATE OR DELETE ON member_tier_history
  FOR EACH ROW EXECUTE FUNCTION forbid_change();
