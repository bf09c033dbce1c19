-- SCIM 2.0 provisioning: per-account bearer tokens for a directory (stored
-- as the SHA-256 of the token), the SCIM id of each person provisioned, and
-- the token as an actor of the audit trail.
CREATE TABLE scim_tokens (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The manager who created it: the token acts with that manager's rights.
    created_by_user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX scim_tokens_account_idx ON scim_tokens (account_id, id);

-- One SCIM User: the same id from invitation to accepted user (and through
-- a re-invitation after a revoke).
CREATE TABLE scim_users (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    invitation_id BIGINT REFERENCES invitations (id) ON DELETE SET NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    external_id TEXT,
    given_name TEXT,
    family_name TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX scim_users_account_idx ON scim_users (account_id, id);
CREATE UNIQUE INDEX scim_users_invitation_idx ON scim_users (invitation_id);
CREATE UNIQUE INDEX scim_users_user_idx ON scim_users (user_id);

ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_type_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_type_check
    CHECK (actor_type IN ('user', 'invitee', 'system', 'scim_token'));
ALTER TABLE audit_events ADD COLUMN actor_scim_token_id BIGINT;
