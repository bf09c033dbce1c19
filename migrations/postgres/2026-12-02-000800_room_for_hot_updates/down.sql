ALTER TABLE email_outbox RESET (fillfactor);
ALTER TABLE invitations RESET (fillfactor);
