-- Room on each page for the updates that follow every insert, so PostgreSQL
-- can make them heap-only (HOT: a new row version on the same page and no new
-- index entries) instead of adding an entry to every index of the table:
-- * the outbox worker's lease (`lease_until`, in no index) on each queued email;
-- * the email's delivery state on its invitation (`delivery`, in no index).
-- Applies to pages written from now on; a table rewrite would apply it to all.
ALTER TABLE email_outbox SET (fillfactor = 60);
ALTER TABLE invitations SET (fillfactor = 85);
