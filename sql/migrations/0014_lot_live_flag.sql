-- unipoints schema, version 14: lots keep a stored `live` flag (remaining > 0) for the partial
-- indexes, and room on their pages. Taking part of a lot changed `remaining`, a column in the
-- predicates of lots_live and lots_due, so every redemption wrote a new lot version with four
-- index entries. Now the indexes name `live`, which only changes when a lot is emptied: a partial
-- take changes no indexed column and, with the page's free space, stays heap-only. Queries say
-- `live` instead of `remaining > 0` (the planner matches the predicate by its text).
-- Adding the stored column rewrites the table once.
ALTER TABLE lots SET (fillfactor = 90);
ALTER TABLE lots ADD COLUMN live boolean GENERATED ALWAYS AS (remaining > 0) STORED;
DROP INDEX lots_live;
CREATE INDEX lots_live ON lots (tenant_id, member_id, expires_at) WHERE live;
DROP INDEX lots_due;
CREATE INDEX lots_due ON lots (tenant_id, expires_at, id) WHERE live AND expires_at IS NOT NULL;
