-- unipoints schema, version 2: rewards, redemptions and their settlement lines, reversals,
-- transfers and adjustments.

ALTER TABLE tenant_policies
  ADD COLUMN cancel_window_hours integer NOT NULL DEFAULT 72 CHECK (cancel_window_hours BETWEEN 0 AND 8760),
  ADD COLUMN adjustment_approval_threshold bigint NOT NULL DEFAULT 1000 CHECK (adjustment_approval_threshold >= 0);

CREATE TABLE rewards (
  tenant_id     bigint NOT NULL REFERENCES tenants (id),
  id            bigint GENERATED ALWAYS AS IDENTITY,
  code          text NOT NULL,
  partner_id    bigint NOT NULL,          -- offers and fulfils it
  name          text NOT NULL,
  -- {"points": N} or {"options": [{"T": 500}, {"T": 500, "R": 500}]} (partner codes)
  price         jsonb NOT NULL,
  stock         bigint CHECK (stock >= 0),  -- NULL: unlimited
  available_from timestamptz,
  available_to   timestamptz,
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, code),
  FOREIGN KEY (tenant_id, partner_id) REFERENCES partners (tenant_id, id)
);

CREATE TABLE redemptions (
  tenant_id            bigint NOT NULL REFERENCES tenants (id),
  id                   bigint GENERATED ALWAYS AS IDENTITY,
  member_id            bigint NOT NULL,
  reward_id            bigint NOT NULL,
  fulfiller_partner_id bigint NOT NULL,
  quantity             integer NOT NULL CHECK (quantity > 0),
  option_index         integer,
  points               bigint NOT NULL CHECK (points > 0),
  card_no              text,
  requested_by_key     bigint NOT NULL,
  status               text NOT NULL DEFAULT 'completed' CHECK (status IN ('completed', 'cancelled')),
  created_at           timestamptz NOT NULL DEFAULT now(),
  cancelled_at         timestamptz,
  cancel_reason        text,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, reward_id) REFERENCES rewards (tenant_id, id)
);
CREATE INDEX redemptions_member ON redemptions (tenant_id, member_id, id DESC);

-- Exactly which lots a redemption (or transfer, reversal, debit) took points from, so that a
-- cancellation can put the exact points back with their original expiry.
CREATE TABLE lot_consumptions (
  tenant_id         bigint NOT NULL REFERENCES tenants (id),
  ref               text NOT NULL,   -- "redemption:42", "transfer:7", ...
  lot_id            bigint NOT NULL,
  source_partner_id bigint NOT NULL,
  points            bigint NOT NULL CHECK (points > 0),
  PRIMARY KEY (tenant_id, ref, lot_id),
  FOREIGN KEY (tenant_id, lot_id) REFERENCES lots (tenant_id, id)
);

-- What partners settle on: per redemption, points of source S honoured by fulfiller F.
-- Insert-only; a cancellation books negative lines at its own time.
CREATE TABLE settlement_lines (
  tenant_id            bigint NOT NULL REFERENCES tenants (id),
  id                   bigint GENERATED ALWAYS AS IDENTITY,
  redemption_id        bigint NOT NULL,
  source_partner_id    bigint NOT NULL,
  fulfiller_partner_id bigint NOT NULL,
  points               bigint NOT NULL CHECK (points <> 0),
  kind                 text NOT NULL CHECK (kind IN ('redemption', 'cancellation')),
  booked_at            timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, redemption_id) REFERENCES redemptions (tenant_id, id)
);
CREATE INDEX settlement_lines_booked ON settlement_lines (tenant_id, booked_at);
CREATE TRIGGER settlement_lines_insert_only BEFORE UPDATE OR DELETE ON settlement_lines
  FOR EACH ROW EXECUTE FUNCTION forbid_change();

CREATE TABLE reversals (
  tenant_id       bigint NOT NULL REFERENCES tenants (id),
  id              bigint GENERATED ALWAYS AS IDENTITY,
  partner_id      bigint NOT NULL,          -- the accrual's partner, who sent the reversal
  reversal_id     text NOT NULL,            -- the partner's id for it
  accrual_id      bigint NOT NULL,
  member_id       bigint NOT NULL,
  amount_minor    bigint CHECK (amount_minor > 0),  -- NULL: reversed by points
  points          bigint NOT NULL CHECK (points >= 0),
  debt_created    bigint NOT NULL DEFAULT 0 CHECK (debt_created >= 0 AND debt_created <= points),
  reason          text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, partner_id, reversal_id),
  FOREIGN KEY (tenant_id, accrual_id) REFERENCES accruals (tenant_id, id),
  FOREIGN KEY (tenant_id, partner_id) REFERENCES partners (tenant_id, id)
);
CREATE INDEX reversals_accrual ON reversals (tenant_id, accrual_id);
CREATE TRIGGER reversals_insert_only BEFORE UPDATE OR DELETE ON reversals
  FOR EACH ROW EXECUTE FUNCTION forbid_change();

CREATE TABLE transfers (
  tenant_id      bigint NOT NULL REFERENCES tenants (id),
  id             bigint GENERATED ALWAYS AS IDENTITY,
  request_id     text NOT NULL,
  from_member_id bigint NOT NULL,
  to_member_id   bigint NOT NULL CHECK (to_member_id <> from_member_id),
  points         bigint NOT NULL CHECK (points > 0),
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, request_id),
  FOREIGN KEY (tenant_id, from_member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, to_member_id) REFERENCES members (tenant_id, id)
);

CREATE TABLE adjustments (
  tenant_id         bigint NOT NULL REFERENCES tenants (id),
  id                bigint GENERATED ALWAYS AS IDENTITY,
  request_id        text NOT NULL,
  member_id         bigint NOT NULL,
  points            bigint NOT NULL CHECK (points <> 0),  -- signed: > 0 credit, < 0 debit
  source_partner_id bigint,               -- a credit's source; a debit's only source when set
  point_type        text NOT NULL DEFAULT 'bonus' CHECK (point_type IN ('consumption', 'tenure', 'credit', 'bonus')),
  reason            text NOT NULL,
  status            text NOT NULL CHECK (status IN ('pending_approval', 'applied', 'refused')),
  requested_by_key  bigint NOT NULL,
  approved_by_key   bigint,
  created_at        timestamptz NOT NULL DEFAULT now(),
  applied_at        timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, request_id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, source_partner_id) REFERENCES partners (tenant_id, id),
  CHECK (points < 0 OR source_partner_id IS NOT NULL)
);
CREATE INDEX adjustments_status ON adjustments (tenant_id, status, id DESC);
