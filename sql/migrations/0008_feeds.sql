-- Billing feeds (POST /v1/feeds): a partner's file of accrual lines, applied in chunks. Each chunk's
-- transaction also advances the feed's counters, so `lines` is exactly the prefix already applied:
-- re-posting the same Feed-Id skips it (after checking it is the same prefix: prefix_sha256).
CREATE TABLE feeds (
  tenant_id     bigint NOT NULL REFERENCES tenants (id),
  partner_id    bigint NOT NULL,
  feed_id       text NOT NULL,
  format        text NOT NULL CHECK (format IN ('csv', 'ndjson')),
  status        text NOT NULL CHECK (status IN ('receiving', 'interrupted', 'applied', 'failed')),
  lines         bigint NOT NULL DEFAULT 0,
  created       bigint NOT NULL DEFAULT 0,
  duplicate     bigint NOT NULL DEFAULT 0,
  rejected      bigint NOT NULL DEFAULT 0,
  prefix_sha256 text NOT NULL,  -- of the header and the first `lines` records
  error         text,
  posts         integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  PRIMARY KEY (tenant_id, partner_id, feed_id),
  FOREIGN KEY (tenant_id, partner_id) REFERENCES partners (tenant_id, id)
);

CREATE TABLE feed_rejects (
  tenant_id  bigint NOT NULL,
  partner_id bigint NOT NULL,
  feed_id    text NOT NULL,
  line       bigint NOT NULL,
  event_id   text,
  code       text NOT NULL,
  reason     text NOT NULL,
  record     text NOT NULL,
  PRIMARY KEY (tenant_id, partner_id, feed_id, line),
  FOREIGN KEY (tenant_id, partner_id, feed_id) REFERENCES feeds (tenant_id, partner_id, feed_id)
);
