-- unipoints schema, version 3: settlement agreements per ordered partner pair. The payer is the
-- source of the points, the payee the partner who honoured them. Versions are effective-dated
-- and never edited: a new price is a new row.

CREATE TABLE settlement_agreements (
  tenant_id        bigint NOT NULL REFERENCES tenants (id),
  id               bigint GENERATED ALWAYS AS IDENTITY,
  payer_partner_id bigint NOT NULL,
  payee_partner_id bigint NOT NULL,
  price_per_point  numeric(20, 6) NOT NULL CHECK (price_per_point >= 0),
  cycle            text NOT NULL CHECK (cycle IN ('monthly', 'bimonthly', 'quarterly', 'yearly')),
  effective_from   timestamptz NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, payer_partner_id, payee_partner_id, effective_from),
  CHECK (payer_partner_id <> payee_partner_id),
  FOREIGN KEY (tenant_id, payer_partner_id) REFERENCES partners (tenant_id, id),
  FOREIGN KEY (tenant_id, payee_partner_id) REFERENCES partners (tenant_id, id)
);
CREATE TRIGGER settlement_agreements_insert_only BEFORE UPDATE OR DELETE ON settlement_agreements
  FOR EACH ROW EXECUTE FUNCTION forbid_change();
