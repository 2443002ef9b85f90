-- unipoints schema, version 9: the accrual path's rows without per-row foreign-key triggers.
-- An accrual writes an accrual, a lot, a ledger entry and its idempotency answer; each foreign key
-- fired a lookup (and a KEY SHARE lock on the hot partner and member rows) per row, about half the
-- statement's time. The writer has already resolved and locked the member and taken the partner
-- from the authenticated key in the same transaction, and `unipoints verify` checks every accrual
-- against its member, partner, lot and ledger entry.
ALTER TABLE accruals DROP CONSTRAINT accruals_tenant_id_fkey;
ALTER TABLE accruals DROP CONSTRAINT accruals_tenant_id_partner_id_fkey;
ALTER TABLE accruals DROP CONSTRAINT accruals_tenant_id_member_id_fkey;
ALTER TABLE lots DROP CONSTRAINT lots_tenant_id_member_id_fkey;
ALTER TABLE lots DROP CONSTRAINT lots_tenant_id_source_partner_id_fkey;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_tenant_id_member_id_fkey;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_tenant_id_fkey;
