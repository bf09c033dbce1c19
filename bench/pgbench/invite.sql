-- PostgreSQL's own bound for one invite: the SQL work of
-- POST /accounts/{id}/invitations (an open license reused, no charge, no
-- groups), statement for statement, in one transaction. bench/run runs it
-- with pgbench, for one account and for many:
--   pgbench -n -M prepared -c 16 -j 2 -T 10 -f bench/pgbench/invite.sql \
--     -D first_account=ID -D accounts=N -D user_offset=K  URL
-- Each transaction invites into one of the N accounts first_account,
-- first_account + 1, …, picked at random (N = 1: always the same one), as the
-- account's primary subscriber, whose user id is the account id + K.
--
-- How it was captured: `bench/run --statements` (first at 4b29f96, re-synced by hand after the one-hop invite, after the webhook check moved into the lock, and after the checks did, 2026-12-02)
-- sets log_min_duration_statement = 0 on the bench database, runs one invite
-- and prints the statements PostgreSQL logged. Each statement below is the
-- service's text with its parameters written in: the service's values (an
-- email, a token hash, `now`) become pgbench variables or SQL expressions, and
-- the constants it binds as parameters ('open', 'pending', 'attorney', LIMIT 1)
-- are literals, so that PostgreSQL plans each statement as well as it can (a
-- partial index WHERE state = 'open' is usable for state = 'open', not for
-- state = $13 in a generic plan): the bound is the best this SQL can do.
-- Left out: the outbox worker's later delivery of the email (its own
-- transactions; `bench/run --statements` shows them too). When the service's statements change, rerun `bench/run --statements`
-- and edit this file to match.
\set account random(:first_account, :first_account + :accounts - 1)
\set user :account + :user_offset
\set n random(1, 1000000000000)
BEGIN;
-- the account lock, returning the account, the caller's role and name (the
-- caller is checked here only: the token is verified without a lookup),
-- whether any pending invitation expires within minutes, whether the account
-- has webhook endpoints (the seed gives it none: no lookup of them later),
-- the lock_version the statement's snapshot holds (is what it read current?),
-- and the invite's checks: already a member, already invited, the rate limit
-- (INVITATIONS_RATE_INVITATIONS_PER_HOUR = 0, no limit, in the benchmark: the
-- service then asks for invitations created after now, none), and the open
-- license and the price for both license types the body may need (the
-- account's billing system decides which; column "open_id" is the one this
-- classic account uses: when there is none, pgbench sets it to '' and the
-- license UPDATE below changes nothing: the service would buy one instead, so
-- the seed leaves enough open licenses). The aliases are pgbench's, for \gset.
UPDATE "accounts" SET "lock_version" = ("accounts"."lock_version" + 1) WHERE ("accounts"."id" = :account) RETURNING "accounts"."id", "accounts"."name", "accounts"."billing_system", "accounts"."plan", "accounts"."currency", "accounts"."period_anchor", "accounts"."lock_version", "accounts"."created_at", (SELECT "users"."role" FROM "users" WHERE ((("users"."id" = :user) AND ("users"."account_id" = :account)) AND ("users"."status" = 'active')) LIMIT 1), (SELECT (((("users"."first_name" || ' ')) || "users"."last_name")) FROM "users" WHERE ((("users"."id" = :user) AND ("users"."account_id" = :account)) AND ("users"."status" = 'active')) LIMIT 1) AS caller_name, EXISTS (SELECT "invitations"."id" FROM "invitations" WHERE ((("invitations"."account_id" = :account) AND ("invitations"."status" = 'pending')) AND ("invitations"."expires_at" <= (now() AT TIME ZONE 'UTC') + interval '5 minutes'))) AS expiring, EXISTS (SELECT "webhook_endpoints"."id", "webhook_endpoints"."account_id", "webhook_endpoints"."url", "webhook_endpoints"."secret", "webhook_endpoints"."events", "webhook_endpoints"."created_at" FROM "webhook_endpoints" WHERE ("webhook_endpoints"."account_id" = :account)) AS webhooks, (SELECT "seen_account"."lock_version" FROM "accounts" AS "seen_account" WHERE ("seen_account"."id" = :account) LIMIT 1) AS seen_version, EXISTS (SELECT "users"."id", "users"."account_id", "users"."email", "users"."email_normalized", "users"."first_name", "users"."last_name", "users"."password_hash", "users"."role", "users"."subscriber_type", "users"."permissions", "users"."status", "users"."created_at", "users"."updated_at" FROM "users" WHERE (("users"."email_normalized" = 'pgbench-' || :n::text || '@bench.example') AND ("users"."account_id" = :account))) AS member, EXISTS (SELECT "invitations"."id", "invitations"."account_id", "invitations"."email", "invitations"."email_normalized", "invitations"."role", "invitations"."subscriber_type", "invitations"."permissions", "invitations"."message", "invitations"."status", "invitations"."token_hash", "invitations"."expires_in_days", "invitations"."expires_at", "invitations"."invited_by_user_id", "invitations"."accepted_user_id", "invitations"."send_count", "invitations"."last_sent_at", "invitations"."delivery", "invitations"."license_type", "invitations"."created_at", "invitations"."updated_at" FROM "invitations" WHERE (((("invitations"."account_id" = :account) AND ("invitations"."email_normalized" = 'pgbench-' || :n::text || '@bench.example')) AND ("invitations"."status" = 'pending')) AND ("invitations"."expires_at" > (now() AT TIME ZONE 'UTC')))) AS pending, (SELECT "invitations"."created_at" FROM "invitations" WHERE (("invitations"."account_id" = :account) AND ("invitations"."created_at" > (now() AT TIME ZONE 'UTC'))) ORDER BY "invitations"."created_at" DESC LIMIT 1 OFFSET 0) AS reached_by, (SELECT "licenses"."id" FROM "licenses" WHERE ((("licenses"."account_id" = :account) AND ("licenses"."license_type" = 'attorney')) AND ("licenses"."state" = 'open')) ORDER BY "licenses"."id" ASC LIMIT 1) AS open_id, (SELECT "license_prices"."price_cents" FROM "license_prices" WHERE (("license_prices"."account_id" = :account) AND ("license_prices"."license_type" = 'attorney')) LIMIT 1) AS price, (SELECT "licenses"."id" FROM "licenses" WHERE ((("licenses"."account_id" = :account) AND ("licenses"."license_type" = 'user')) AND ("licenses"."state" = 'open')) ORDER BY "licenses"."id" ASC LIMIT 1) AS other_open_id, (SELECT "license_prices"."price_cents" FROM "license_prices" WHERE (("license_prices"."account_id" = :account) AND ("license_prices"."license_type" = 'user')) LIMIT 1) AS other_price \gset check_
-- (the service skips the expiry UPDATE when the lock statement finds nothing
-- expiring within 5 minutes, as here: no overdue invitations in the seed)
INSERT INTO "invitations" ("account_id", "email", "email_normalized", "role", "subscriber_type", "permissions", "message", "status", "token_hash", "expires_in_days", "expires_at", "invited_by_user_id", "send_count", "last_sent_at", "delivery", "license_type", "created_at", "updated_at") VALUES (:account, 'pgbench-' || :n::text || '@bench.example', 'pgbench-' || :n::text || '@bench.example', 'standard', 'attorney', '[]', DEFAULT, 'pending', md5(:n::text) || md5(:client_id::text || '-' || :n::text), 7, (now() AT TIME ZONE 'UTC') + interval '7 days', :user, 1, (now() AT TIME ZONE 'UTC'), 'queued', 'attorney', (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')) RETURNING "invitations"."id", "invitations"."account_id", "invitations"."email", "invitations"."email_normalized", "invitations"."role", "invitations"."subscriber_type", "invitations"."permissions", "invitations"."message", "invitations"."status", "invitations"."token_hash", "invitations"."expires_in_days", "invitations"."expires_at", "invitations"."invited_by_user_id", "invitations"."accepted_user_id", "invitations"."send_count", "invitations"."last_sent_at", "invitations"."delivery", "invitations"."license_type", "invitations"."created_at", "invitations"."updated_at" \gset invitation_
UPDATE "licenses" SET "state" = 'reserved', "invitation_id" = :invitation_id, "user_id" = NULL, "updated_at" = (now() AT TIME ZONE 'UTC') WHERE (("licenses"."id" = NULLIF(:check_open_id, '')::bigint) AND ("licenses"."state" = 'open'));
-- the email (bodies as long as the service's: about 300 and 900 bytes; \x3a is a
-- colon: pgbench would read ":8080" as a variable)
INSERT INTO "email_outbox" ("account_id", "invitation_id", "recipient", "subject", "text_body", "html_body", "status", "attempts", "next_attempt_at", "created_at") VALUES (:account, :invitation_id, 'pgbench-' || :n::text || '@bench.example', 'You''ve been invited to Clio', E'Hello,

Owner big has invited you to join big on Clio.

Accept the invitation here:
http://127.0.0.1\x3a8080/invitations/accept?token=inv_yW7YINjk60U3q_5Liv_S229gFE6TrjSqGBkVRM2hQRU

This invitation expires on December 9, 2026 at 03\x3a29 UTC.
If you were not expecting it, you can ignore this email.', E'<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>You&#39;ve been invited to Clio</title></head>
<body style="font-family: sans-serif; line-height: 1.5; color: #1f2933;">
  <p>Hello,</p>
  <p><strong>Owner big</strong> has invited you to join <strong>big</strong> on Clio.</p>
  <p><a href="http://127.0.0.1\x3a8080/invitations/accept?token=inv_yW7YINjk60U3q_5Liv_S229gFE6TrjSqGBkVRM2hQRU" style="display: inline-block; padding: 0.6em 1.2em; background: #0b5cad; color: #fff; text-decoration: none; border-radius: 4px;">Accept the invitation</a></p>
  <p>Or open this link: http://127.0.0.1\x3a8080/invitations/accept?token=inv_yW7YINjk60U3q_5Liv_S229gFE6TrjSqGBkVRM2hQRU</p>
  <p>This invitation expires on December 9, 2026 at 03\x3a29 UTC.</p>
  <p style="color: #616e7c; font-size: 0.9em;">If you were not expecting it, you can ignore this email.</p>
</body>
</html>', 'queued', 0, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')) RETURNING "email_outbox"."id";
INSERT INTO "audit_events" ("account_id", "actor_type", "actor_user_id", "action", "subject_type", "subject_id", "details", "created_at") VALUES (:account, 'user', :user, 'invitation.created', 'invitation', :invitation_id, E'{"charge_cents"\x3anull,"email"\x3a"pgbench-' || :n::text || E'@bench.example","license_type"\x3a"attorney","role"\x3a"standard"}', (now() AT TIME ZONE 'UTC')) RETURNING "audit_events"."id";
COMMIT;
