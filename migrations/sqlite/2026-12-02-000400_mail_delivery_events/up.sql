-- The provider's id of each message handed over, so a delivery event
-- (delivered, bounced, complained) finds its email and its invitation.
ALTER TABLE email_outbox ADD COLUMN provider_message_id TEXT;
CREATE INDEX email_outbox_provider_message_idx ON email_outbox (provider_message_id)
    WHERE provider_message_id IS NOT NULL;
-- SQLite changes a CHECK constraint only by rebuilding the table, and this
-- runs inside the migration transaction, where foreign keys cannot be turned
-- off: dropping the old table would cascade to invitation_groups and
-- email_outbox, so those rows are kept aside and put back; the other
-- references (licenses, charges) are checked at commit, when the new table
-- holds the same ids again.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE invitation_groups_kept AS SELECT * FROM invitation_groups;
CREATE TABLE email_outbox_kept AS SELECT * FROM email_outbox;
CREATE TABLE invitations_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('administrator', 'standard')),
    subscriber_type TEXT CHECK (subscriber_type IN ('attorney', 'non_attorney')),
    permissions TEXT NOT NULL DEFAULT '',
    message TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')),
    token_hash TEXT NOT NULL UNIQUE,
    expires_in_days INTEGER NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    invited_by_user_id BIGINT NOT NULL REFERENCES users (id),
    accepted_user_id BIGINT REFERENCES users (id),
    send_count INTEGER NOT NULL DEFAULT 1,
    last_sent_at TIMESTAMP,
    delivery TEXT NOT NULL DEFAULT 'queued' CHECK (delivery IN ('queued', 'sent', 'delivered', 'bounced', 'complained', 'failed')),
    license_type TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO invitations_rebuilt SELECT * FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_rebuilt RENAME TO invitations;
INSERT INTO email_outbox SELECT * FROM email_outbox_kept WHERE id NOT IN (SELECT id FROM email_outbox);
INSERT INTO invitation_groups SELECT * FROM invitation_groups_kept
    WHERE NOT EXISTS (SELECT 1 FROM invitation_groups g
                      WHERE g.invitation_id = invitation_groups_kept.invitation_id
                        AND g.group_id = invitation_groups_kept.group_id);
DROP TABLE invitation_groups_kept;
DROP TABLE email_outbox_kept;
CREATE UNIQUE INDEX invitations_one_pending_per_email
    ON invitations (account_id, email_normalized) WHERE status = 'pending';
CREATE INDEX invitations_account_idx ON invitations (account_id, id);
CREATE INDEX invitations_account_status_idx ON invitations (account_id, status, id);
CREATE INDEX invitations_account_email_idx ON invitations (account_id, email_normalized, id);
CREATE INDEX invitations_account_created_idx ON invitations (account_id, created_at);
CREATE INDEX invitations_account_overdue_idx ON invitations (account_id, status, expires_at);
CREATE INDEX invitations_status_expiry_idx ON invitations (status, expires_at);
-- Cancelling an invitation's queued messages names both columns: with only
-- (status, created_at) and (invitation_id, created_at) to choose from, SQLite
-- walked every queued message of every account (tests/flat_cost.rs).
CREATE INDEX email_outbox_invitation_status_idx ON email_outbox (invitation_id, status);
