CREATE TABLE audit_events_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    actor_type TEXT NOT NULL CHECK (actor_type IN ('user', 'invitee', 'system')),
    actor_user_id BIGINT,
    action TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO audit_events_old (id, account_id, actor_type, actor_user_id, action, subject_type, subject_id, details, created_at)
    SELECT id, account_id, CASE actor_type WHEN 'scim_token' THEN 'system' ELSE actor_type END,
           actor_user_id, action, subject_type, subject_id, details, created_at FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_old RENAME TO audit_events;
CREATE INDEX audit_events_account_idx ON audit_events (account_id, id);
CREATE INDEX audit_events_account_action_idx ON audit_events (account_id, action, id);
DROP TABLE scim_users;
DROP TABLE scim_tokens;
