-- unipoints schema, version 10: an accepted accrual's stored answer is rebuilt from its row.
-- The idempotency row of an accepted accrual keeps its key and request hash (its primary key
-- still admits one answer per event id) but no longer a JSON copy of the answer: the accrual row
-- keeps the balance its answer reported, and the rest of the answer is the accrual and its lot.
-- Refusals keep their answer (problem+json) as before. Rows stored before this version keep theirs.
ALTER TABLE idempotency_keys ALTER COLUMN response DROP NOT NULL;
ALTER TABLE accruals ADD COLUMN balance_after bigint;
