-- The provider's id of each message handed over, so a delivery event
-- (delivered, bounced, complained) finds its email and its invitation.
ALTER TABLE email_outbox ADD COLUMN provider_message_id TEXT;
CREATE INDEX email_outbox_provider_message_idx ON email_outbox (provider_message_id)
    WHERE provider_message_id IS NOT NULL;
ALTER TABLE invitations DROP CONSTRAINT invitations_delivery_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_delivery_check
    CHECK (delivery IN ('queued', 'sent', 'delivered', 'bounced', 'complained', 'failed'));
-- Cancelling an invitation's queued messages names both columns: with only
-- (status, created_at) and (invitation_id, created_at) to choose from, SQLite
-- walked every queued message of every account (tests/flat_cost.rs).
CREATE INDEX email_outbox_invitation_status_idx ON email_outbox (invitation_id, status);
