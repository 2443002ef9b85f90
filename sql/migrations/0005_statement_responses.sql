-- unipoints schema, version 5: a partner's answer to its statement of a final settlement run.
-- One answer per tenant, period and partner; repeating it is idempotent, switching is refused.

CREATE TABLE statement_responses (
  tenant_id  bigint NOT NULL REFERENCES tenants (id),
  period     text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  partner_id bigint NOT NULL,
  status     text NOT NULL CHECK (status IN ('acknowledged', 'disputed')),
  reason     text,
  at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, period, partner_id),
  FOREIGN KEY (tenant_id, period) REFERENCES settlement_runs (tenant_id, period),
  FOREIGN KEY (tenant_id, partner_id) REFERENCES partners (tenant_id, id)
);
