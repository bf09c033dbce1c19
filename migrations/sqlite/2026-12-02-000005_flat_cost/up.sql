-- Every hot statement is served by an index that matches its filter and its
-- order, so no request reads rows in proportion to the size of an account.

-- Picking an open license, oldest first: the old index (account_id,
-- license_type, state) had to read every open seat of the type and sort them.
-- Not a partial index: the state is a bound parameter, and a plan that
-- PostgreSQL reuses for any value cannot rely on `WHERE state = 'open'`.
DROP INDEX licenses_account_type_state_idx;
CREATE INDEX licenses_account_type_state_idx ON licenses (account_id, license_type, state, id);

-- How many licenses an account has, per type and state, kept by triggers so the
-- license summary reads a handful of rows however many seats there are.
CREATE TABLE license_counts (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    license_type TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'reserved', 'assigned')),
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (account_id, license_type, state)
);
INSERT INTO license_counts (account_id, license_type, state, n)
    SELECT account_id, license_type, state, count(*) FROM licenses WHERE true GROUP BY 1, 2, 3;

CREATE TRIGGER licenses_counted_on_insert AFTER INSERT ON licenses
BEGIN
    INSERT INTO license_counts (account_id, license_type, state, n)
    VALUES (NEW.account_id, NEW.license_type, NEW.state, 1)
    ON CONFLICT (account_id, license_type, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER licenses_counted_on_delete AFTER DELETE ON licenses
BEGIN
    UPDATE license_counts SET n = n - 1
     WHERE account_id = OLD.account_id AND license_type = OLD.license_type AND state = OLD.state;
END;
CREATE TRIGGER licenses_counted_on_update AFTER UPDATE OF account_id, license_type, state ON licenses
    WHEN OLD.account_id IS NOT NEW.account_id OR OLD.license_type IS NOT NEW.license_type OR OLD.state IS NOT NEW.state
BEGIN
    UPDATE license_counts SET n = n - 1
     WHERE account_id = OLD.account_id AND license_type = OLD.license_type AND state = OLD.state;
    INSERT INTO license_counts (account_id, license_type, state, n)
    VALUES (NEW.account_id, NEW.license_type, NEW.state, 1)
    ON CONFLICT (account_id, license_type, state) DO UPDATE SET n = n + 1;
END;

-- Listing invitations by status or email, newest first; rolling-hour rate
-- limit; overdue invitations of one account.
CREATE INDEX invitations_account_status_idx ON invitations (account_id, status, id);
CREATE INDEX invitations_account_email_idx ON invitations (account_id, email_normalized, id);
CREATE INDEX invitations_account_created_idx ON invitations (account_id, created_at);
-- (Full indexes, for the same reason as the licenses one: the status is bound.)
CREATE INDEX invitations_account_overdue_idx ON invitations (account_id, status, expires_at);
DROP INDEX invitations_pending_expiry_idx;
CREATE INDEX invitations_status_expiry_idx ON invitations (status, expires_at);

-- Users by status, groups in id order, audit events by action.
CREATE INDEX users_account_status_idx ON users (account_id, status, id);
CREATE INDEX firm_groups_account_idx ON firm_groups (account_id, id);
CREATE INDEX audit_events_account_action_idx ON audit_events (account_id, action, id);
