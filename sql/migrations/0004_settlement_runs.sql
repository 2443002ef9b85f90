-- unipoints schema, version 4: settlement runs. One run per tenant and period (a month in the
-- tenant's time zone). A draft is recomputed on request; a final run is immutable and chained to
-- the previous final run by its content hash.

CREATE TABLE settlement_runs (
  tenant_id     bigint NOT NULL REFERENCES tenants (id),
  period        text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  status        text NOT NULL CHECK (status IN ('draft', 'final')),
  content       jsonb NOT NULL,
  content_text  text NOT NULL,   -- the canonical bytes the hash covers
  content_hash  text NOT NULL,
  previous_hash text,
  computed_at   timestamptz NOT NULL DEFAULT now(),
  finalized_at  timestamptz,
  PRIMARY KEY (tenant_id, period)
);

CREATE FUNCTION forbid_final_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'final' THEN
    RAISE EXCEPTION 'settlement run % % is final', OLD.tenant_id, OLD.period;
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$;
CREATE TRIGGER settlement_runs_final_immutable BEFORE UPDATE OR DELETE ON settlement_runs
  FOR EACH ROW EXECUTE FUNCTION forbid_final_change();
