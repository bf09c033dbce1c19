CREATE TABLE service_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    billing_system TEXT NOT NULL CHECK (billing_system IN ('classic', 'new')),
    plan TEXT NOT NULL CHECK (plan IN ('annual', 'monthly')),
    currency TEXT NOT NULL,
    period_anchor TIMESTAMP NOT NULL,
    lock_version BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE license_prices (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    license_type TEXT NOT NULL,
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    PRIMARY KEY (account_id, license_type)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('primary_subscriber', 'administrator', 'standard')),
    subscriber_type TEXT NOT NULL CHECK (subscriber_type IN ('attorney', 'non_attorney')),
    permissions TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_account_idx ON users (account_id, id);

CREATE TABLE firm_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_normalized TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (account_id, name_normalized)
);

CREATE TABLE group_memberships (
    group_id BIGINT NOT NULL REFERENCES firm_groups (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_memberships_user_idx ON group_memberships (user_id);

CREATE TABLE invitations (
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
    delivery TEXT NOT NULL DEFAULT 'queued' CHECK (delivery IN ('queued', 'sent', 'failed')),
    license_type TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX invitations_one_pending_per_email
    ON invitations (account_id, email_normalized) WHERE status = 'pending';
CREATE INDEX invitations_account_idx ON invitations (account_id, id);
CREATE INDEX invitations_pending_expiry_idx ON invitations (expires_at) WHERE status = 'pending';

CREATE TABLE invitation_groups (
    invitation_id BIGINT NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES firm_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (invitation_id, group_id)
);

CREATE TABLE licenses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    license_type TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'reserved', 'assigned')),
    invitation_id BIGINT REFERENCES invitations (id),
    user_id BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- The state says who holds the license, and only that holder.
    CHECK (
        (state = 'open' AND invitation_id IS NULL AND user_id IS NULL)
        OR (state = 'reserved' AND invitation_id IS NOT NULL AND user_id IS NULL)
        OR (state = 'assigned' AND invitation_id IS NULL AND user_id IS NOT NULL)
    )
);
CREATE INDEX licenses_account_type_state_idx ON licenses (account_id, license_type, state);
-- One license per invitation and per user, whatever the code above does.
CREATE UNIQUE INDEX licenses_one_per_invitation ON licenses (invitation_id) WHERE invitation_id IS NOT NULL;
CREATE UNIQUE INDEX licenses_one_per_user ON licenses (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE charges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),
    currency TEXT NOT NULL,
    license_type TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('invitation', 'license_purchase', 'user_enabled')),
    invitation_id BIGINT REFERENCES invitations (id),
    user_id BIGINT REFERENCES users (id),
    period_start TIMESTAMP NOT NULL,
    period_end TIMESTAMP NOT NULL,
    seconds_remaining BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX charges_account_idx ON charges (account_id, id);
CREATE INDEX charges_invitation_idx ON charges (invitation_id);

CREATE TABLE email_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    invitation_id BIGINT REFERENCES invitations (id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    -- cancelled: superseded by a resend or made moot by revoke/decline/expiry; kept as the send history.
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX email_outbox_invitation_idx ON email_outbox (invitation_id, created_at);
