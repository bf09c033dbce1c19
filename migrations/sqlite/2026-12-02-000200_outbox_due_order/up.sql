-- The worker claims due emails oldest-due first: the queued ones only, in the
-- index's own order, so a claim never sorts (nor walks) the finished history.
DROP INDEX email_outbox_due_idx;
CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at, id) WHERE status = 'queued';
