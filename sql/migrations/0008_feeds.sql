-- Billing feeds (POST /v1/feeds): a partner's file of accrual lines, cut into chunks of chunk_lines
-- lines, each chunk split by member into `parts` parts written side by side. Each part's
-- transaction records the part (with a digest of its lines) and adds to the feed's counters, so a
-- re-post of the same Feed-Id skips exactly the parts already applied (after checking their digests).
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
  chunk_lines   integer NOT NULL CHECK (chunk_lines > 0),
  parts         integer NOT NULL CHECK (parts > 0),
  error         text,
  posts         integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  PRIMARY KEY (tenant_id, partner_id, feed_id),
  FOREIGN KEY (tenant_id, partner_id) REFERENCES partners (tenant_id, id)
);

CREATE TABLE feed_parts (
  tenant_id  bigint NOT NULL,
  partner_id bigint NOT NULL,
  feed_id    text NOT NULL,
  chunk      bigint NOT NULL,
  part       integer NOT NULL,
  lines      integer NOT NULL,
  sha256     text NOT NULL,  -- of the format, the CSV header and the part's lines
  PRIMARY KEY (tenant_id, partner_id, feed_id, chunk, part),
  FOREIGN KEY (tenant_id, partner_id, feed_id) REFERENCES feeds (tenant_id, partner_id, feed_id)
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
