-- unipoints schema, version 12: a redemption's rows without foreign-key checks on hot rows.
-- Every redemption, its lot consumptions and its settlement lines checked their tenant, and the
-- redemption its reward, with a KEY SHARE lock on that one row: concurrent redemptions of one
-- reward shared those locks (multixacts) on every insert. Tenants and rewards are never deleted
-- (a reward is withdrawn, not removed), the writer has just read the reward in the same
-- transaction, and `unipoints verify` checks every redemption's reward. The checks of the member,
-- the lots and the redemption itself stay.
ALTER TABLE redemptions DROP CONSTRAINT redemptions_tenant_id_fkey;
ALTER TABLE redemptions DROP CONSTRAINT redemptions_tenant_id_reward_id_fkey;
ALTER TABLE lot_consumptions DROP CONSTRAINT lot_consumptions_tenant_id_fkey;
ALTER TABLE settlement_lines DROP CONSTRAINT settlement_lines_tenant_id_fkey;
