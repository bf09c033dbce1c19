-- PostgreSQL only: room on each page for the update that follows every
-- insert of an email and of an invitation (see the PostgreSQL migration).
-- SQLite updates rows in place; nothing to do.
SELECT 1;
