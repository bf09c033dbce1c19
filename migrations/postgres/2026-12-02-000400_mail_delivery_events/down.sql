DROP INDEX IF EXISTS email_outbox_invitation_status_idx;
UPDATE invitations SET delivery = 'sent' WHERE delivery IN ('delivered', 'bounced', 'complained');
ALTER TABLE invitations DROP CONSTRAINT invitations_delivery_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_delivery_check
    CHECK (delivery IN ('queued', 'sent', 'failed'));
DROP INDEX email_outbox_provider_message_idx;
ALTER TABLE email_outbox DROP COLUMN provider_message_id;
