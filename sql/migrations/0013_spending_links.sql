-- unipoints schema, version 13: a redemption's rows without the remaining foreign-key checks.
-- Each redemption checked its member, each lot consumption its lot and each settlement line its
-- redemption: a trigger query and a KEY SHARE lock per row on rows the same statement had just
-- locked or written (the member and lots locked FOR UPDATE, the redemption inserted beside its
-- lines), about 7% of a redemption's cost. Members, lots and redemptions are never deleted, and
-- `unipoints verify` checks every one of these links instead.
ALTER TABLE redemptions DROP CONSTRAINT redemptions_tenant_id_member_id_fkey;
ALTER TABLE lot_consumptions DROP CONSTRAINT lot_consumptions_tenant_id_lot_id_fkey;
ALTER TABLE settlement_lines DROP CONSTRAINT settlement_lines_tenant_id_redemption_id_fkey;
