-- unipoints schema, version 11: room on member_balances pages for updated rows.
-- Every point movement rewrites its member's totals row. On a full page the new version goes to
-- another page with a new primary-key entry; with free room it stays on the page (a heap-only
-- update, no index entry), and pruning reclaims the old version. Pages written from now on keep
-- 30% free; existing pages get it as they are rewritten (VACUUM FULL, or pg_repack).
ALTER TABLE member_balances SET (fillfactor = 70);
