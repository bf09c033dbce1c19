-- Bulk rows for bench/run on PostgreSQL: the same rows as `bench.py seed-sqlite`.
--
-- pg_temp.seed_account(account, assigned, reserved, open) adds to an account
-- made by `invitations bootstrap`:
--   * `assigned` users (standard attorneys), each holding an assigned license;
--   * `reserved` pending invitations, each holding a reserved license, with
--     known tokens: the n-th is "inv_" + base64url(sha256('a{account}-{n}'))
--     and its token_hash is sha256(token) in hex, as src/domain/token.rs stores it;
--   * `open` open licenses,
-- in that id order, so the open licenses come after every held one (what an
-- account that has grown looks like, and the worst case for a scan in id order).
-- Everything was created two days ago (so it is outside the rolling hour of
-- the invitation rate limit) and the invitations expire in 28 days.
-- bench/run then calls the function once per account (psql -c).

CREATE FUNCTION pg_temp.seed_account(acct bigint, assigned int, reserved int, open int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    ts timestamp := (now() AT TIME ZONE 'UTC') - interval '2 days';
    prefix text := 'a' || acct || '-';
    owner_id bigint;
    owner_hash text;
    ltype text;
BEGIN
    SELECT id, password_hash INTO STRICT owner_id, owner_hash
        FROM users WHERE account_id = acct AND role = 'primary_subscriber';
    SELECT CASE billing_system WHEN 'classic' THEN 'attorney' ELSE 'user' END INTO STRICT ltype
        FROM accounts WHERE id = acct;

    INSERT INTO users (account_id, email, email_normalized, first_name, last_name, password_hash,
                       role, subscriber_type, permissions, status, created_at, updated_at)
    SELECT acct, prefix || 'member' || n || '@seed.example', prefix || 'member' || n || '@seed.example',
           'Seeded', 'Member ' || n, owner_hash, 'standard', 'attorney', '[]', 'active', ts, ts
    FROM generate_series(1, assigned) AS n;
    INSERT INTO licenses (account_id, license_type, state, invitation_id, user_id, created_at, updated_at)
    SELECT acct, ltype, 'assigned', NULL, id, ts, ts
    FROM users WHERE account_id = acct AND id <> owner_id ORDER BY id;

    INSERT INTO invitations (account_id, email, email_normalized, role, subscriber_type, permissions,
                             message, status, token_hash, expires_in_days, expires_at,
                             invited_by_user_id, send_count, last_sent_at, delivery, license_type,
                             created_at, updated_at)
    SELECT acct, prefix || 'invitee' || n || '@seed.example', prefix || 'invitee' || n || '@seed.example',
           'standard', 'attorney', '[]', NULL, 'pending',
           encode(sha256(convert_to('inv_' || rtrim(translate(
               encode(sha256(convert_to(prefix || n, 'UTF8')), 'base64'), '+/', '-_'), '='), 'UTF8')), 'hex'),
           30, ts + interval '30 days', owner_id, 1, ts, 'sent', ltype, ts, ts
    FROM generate_series(1, reserved) AS n ORDER BY n;
    INSERT INTO licenses (account_id, license_type, state, invitation_id, user_id, created_at, updated_at)
    SELECT acct, ltype, 'reserved', id, NULL, ts, ts
    FROM invitations WHERE account_id = acct ORDER BY id;

    INSERT INTO licenses (account_id, license_type, state, invitation_id, user_id, created_at, updated_at)
    SELECT acct, ltype, 'open', NULL, NULL, ts, ts FROM generate_series(1, open);
END
$$;
