-- unipoints schema, version 1: tenants, partners, keys, policy, members, cards, earning rules,
-- accruals, lots, balances, ledger, idempotency. Every tenant-owned table carries tenant_id and
-- every primary and unique key includes it. Ids come from one global sequence per kind so that
-- an id never repeats across tenants.

CREATE TABLE tenants (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code        text NOT NULL UNIQUE,
  name        text NOT NULL,
  currency    text NOT NULL,
  minor_units smallint NOT NULL CHECK (minor_units BETWEEN 0 AND 4),
  time_zone   text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE partners (
  tenant_id  bigint NOT NULL REFERENCES tenants (id),
  id         bigint GENERATED ALWAYS AS IDENTITY,
  code       text NOT NULL,
  name       text NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('telecom', 'retail', 'other')),
  status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, code)
);

CREATE TABLE api_keys (
  tenant_id  bigint NOT NULL REFERENCES tenants (id),
  id         bigint GENERATED ALWAYS AS IDENTITY,
  role       text NOT NULL CHECK (role IN ('admin', 'partner', 'agent', 'finance')),
  partner_id bigint,
  label      text NOT NULL DEFAULT '',
  key_hash   text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, key_hash),
  FOREIGN KEY (tenant_id, partner_id) REFERENCES partners (tenant_id, id),
  CHECK ((role = 'partner') = (partner_id IS NOT NULL))
);

-- The points policy of a tenant. Until a row exists, points never expire.
CREATE TABLE tenant_policies (
  tenant_id          bigint PRIMARY KEY REFERENCES tenants (id),
  expiry_kind        text NOT NULL CHECK (expiry_kind IN ('calendar_years', 'months', 'never')),
  expiry_n           integer NOT NULL DEFAULT 0,
  carry_over_percent integer NOT NULL DEFAULT 0 CHECK (carry_over_percent BETWEEN 0 AND 100),
  consumption        text NOT NULL DEFAULT 'earliest_expiry',
  -- point type -> {kind, n} overrides
  by_point_type      jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Every client-supplied id of a write: the request's hash and the first answer, replayed on repeat.
-- scope is the partner id for partner keys and 0 for the tenant's other roles.
CREATE TABLE idempotency_keys (
  tenant_id    bigint NOT NULL REFERENCES tenants (id),
  scope        bigint NOT NULL,
  kind         text NOT NULL,
  client_id    text NOT NULL,
  request_hash text NOT NULL,
  status       smallint NOT NULL,
  response     jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, scope, kind, client_id)
);

CREATE TABLE members (
  tenant_id          bigint NOT NULL REFERENCES tenants (id),
  id                 bigint GENERATED ALWAYS AS IDENTITY,
  name               text NOT NULL,
  gender             text NOT NULL CHECK (gender IN ('male', 'female', 'other', 'unknown')),
  id_type            text NOT NULL,
  id_hash            text NOT NULL,  -- hex HMAC-SHA256 of the normalised identity number
  id_masked          text NOT NULL,
  phone              text,
  email              text,
  address            text,
  status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'terminated')),
  tier               text NOT NULL DEFAULT 'normal',
  joined_at          timestamptz NOT NULL DEFAULT now(),
  issuing_partner_id bigint,
  created_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, id_hash),
  FOREIGN KEY (tenant_id, issuing_partner_id) REFERENCES partners (tenant_id, id)
);
CREATE INDEX members_phone ON members (tenant_id, phone) WHERE phone IS NOT NULL;

CREATE TABLE cards (
  tenant_id          bigint NOT NULL REFERENCES tenants (id),
  card_no            text NOT NULL,
  member_id          bigint NOT NULL,
  issuing_partner_id bigint,
  status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'lost', 'replaced', 'cancelled')),
  issued_at          timestamptz NOT NULL DEFAULT now(),
  status_changed_at  timestamptz NOT NULL DEFAULT now(),
  replaces_card_no   text,
  PRIMARY KEY (tenant_id, card_no),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, issuing_partner_id) REFERENCES partners (tenant_id, id)
);
CREATE INDEX cards_member ON cards (tenant_id, member_id);

-- Effective-dated earning-rule versions per partner; a version is never edited.
CREATE TABLE earning_rule_versions (
  tenant_id      bigint NOT NULL REFERENCES tenants (id),
  partner_id     bigint NOT NULL,
  version        integer NOT NULL,
  effective_from timestamptz NOT NULL,
  body           jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, partner_id, version),
  FOREIGN KEY (tenant_id, partner_id) REFERENCES partners (tenant_id, id)
);
CREATE INDEX earning_rule_versions_effective ON earning_rule_versions (tenant_id, partner_id, effective_from DESC, version DESC);

CREATE TABLE accruals (
  tenant_id     bigint NOT NULL REFERENCES tenants (id),
  id            bigint GENERATED ALWAYS AS IDENTITY,
  partner_id    bigint NOT NULL,
  event_id      text NOT NULL,
  member_id     bigint NOT NULL,
  card_no       text,
  category      text,
  amount_minor  bigint CHECK (amount_minor >= 0),
  points        bigint NOT NULL CHECK (points >= 0),
  point_type    text NOT NULL CHECK (point_type IN ('consumption', 'tenure', 'credit', 'bonus')),
  rule_version  integer,
  multiplier    numeric(20, 6),
  occurred_at   timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, partner_id, event_id),
  FOREIGN KEY (tenant_id, partner_id) REFERENCES partners (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);

-- Every earned amount is a lot, tagged with the partner that issued it.
CREATE TABLE lots (
  tenant_id         bigint NOT NULL REFERENCES tenants (id),
  id                bigint GENERATED ALWAYS AS IDENTITY,
  member_id         bigint NOT NULL,
  source_partner_id bigint NOT NULL,
  point_type        text NOT NULL,
  points            bigint NOT NULL CHECK (points > 0),
  remaining         bigint NOT NULL CHECK (remaining >= 0 AND remaining <= points),
  earned_at         timestamptz NOT NULL,
  expires_at        timestamptz,  -- NULL: never
  accrual_id        bigint,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, source_partner_id) REFERENCES partners (tenant_id, id)
);
CREATE INDEX lots_live ON lots (tenant_id, member_id, expires_at) WHERE remaining > 0;
CREATE INDEX lots_accrual ON lots (tenant_id, accrual_id) WHERE accrual_id IS NOT NULL;

-- Per-member running totals, updated in the same transaction as the lots and ledger rows.
CREATE TABLE member_balances (
  tenant_id  bigint NOT NULL REFERENCES tenants (id),
  member_id  bigint NOT NULL,
  lifetime   bigint NOT NULL DEFAULT 0,
  debt       bigint NOT NULL DEFAULT 0 CHECK (debt >= 0),
  -- sum of remaining over all the member's lots, expired or not until the expiry job runs:
  -- available = held - debt - remaining of lots already past expires_at
  held       bigint NOT NULL DEFAULT 0 CHECK (held >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, member_id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);

-- The insert-only points ledger.
CREATE TABLE ledger_entries (
  tenant_id         bigint NOT NULL REFERENCES tenants (id),
  seq               bigint GENERATED ALWAYS AS IDENTITY,
  member_id         bigint NOT NULL,
  at                timestamptz NOT NULL DEFAULT now(),
  kind              text NOT NULL CHECK (kind IN ('accrual', 'reversal', 'redemption', 'cancellation',
                      'transfer_in', 'transfer_out', 'expiry', 'carry_over', 'adjustment')),
  points            bigint NOT NULL,
  source_partner_id bigint,
  lot_id            bigint,
  ref               text NOT NULL,
  PRIMARY KEY (tenant_id, seq),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX ledger_member ON ledger_entries (tenant_id, member_id, seq DESC);

CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is insert-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER ledger_entries_insert_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER accruals_insert_only BEFORE UPDATE OR DELETE ON accruals
  FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER earning_rule_versions_insert_only BEFORE UPDATE OR DELETE ON earning_rule_versions
  FOR EACH ROW EXECUTE FUNCTION forbid_change();
