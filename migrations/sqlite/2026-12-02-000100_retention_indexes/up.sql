-- Retention: the worker deletes finished emails (sent, failed, cancelled) and
-- webhook deliveries (sent, failed) older than INVITATIONS_RETENTION_DAYS, a
-- batch at a time. These indexes find them without scanning whole tables.
CREATE INDEX email_outbox_retention_idx ON email_outbox (status, created_at);
CREATE INDEX webhook_deliveries_retention_idx ON webhook_deliveries (status, created_at);
