-- PostgreSQL's own bound for one list: the statements of
-- GET /accounts/{id}/invitations?limit=50 (the first page, newest first), as
-- `bench/run --statements list` shows them, one after the other (a read: no
-- transaction). bench/run runs it with pgbench next to the list row:
--   pgbench -n -M prepared -c 16 -j 2 -T 10 -f bench/pgbench/list.sql \
--     -D account=ID -D owner=USER_ID -D newest=INVITATION_ID  URL
-- The page's invitation ids are the account's newest 50 (seeded consecutively,
-- so newest - 49 … newest). When the service's statements change, rerun
-- `bench/run --statements list` and edit this file to match.
-- the caller, checked on every request (active, may manage the account)
SELECT "users"."id", "users"."account_id", "users"."email", "users"."email_normalized", "users"."first_name", "users"."last_name", "users"."password_hash", "users"."role", "users"."subscriber_type", "users"."permissions", "users"."status", "users"."created_at", "users"."updated_at" FROM "users" WHERE ("users"."id" = :owner) LIMIT 1;
-- the page (one more row than asked, to know whether there is a next page)
SELECT "invitations"."id", "invitations"."account_id", "invitations"."email", "invitations"."email_normalized", "invitations"."role", "invitations"."subscriber_type", "invitations"."permissions", "invitations"."message", "invitations"."status", "invitations"."token_hash", "invitations"."expires_in_days", "invitations"."expires_at", "invitations"."invited_by_user_id", "invitations"."accepted_user_id", "invitations"."send_count", "invitations"."last_sent_at", "invitations"."delivery", "invitations"."license_type", "invitations"."created_at", "invitations"."updated_at" FROM "invitations" WHERE ("invitations"."account_id" = :account) ORDER BY "invitations"."account_id" DESC, "invitations"."id" DESC LIMIT 51;
-- the inviters' names, the page's groups and charges
SELECT "users"."id", "users"."account_id", "users"."email", "users"."email_normalized", "users"."first_name", "users"."last_name", "users"."password_hash", "users"."role", "users"."subscriber_type", "users"."permissions", "users"."status", "users"."created_at", "users"."updated_at" FROM "users" WHERE ("users"."id" = ANY(ARRAY[:owner]::bigint[]));
SELECT "invitation_groups"."invitation_id", "invitation_groups"."group_id" FROM "invitation_groups" WHERE ("invitation_groups"."invitation_id" = ANY(ARRAY(SELECT generate_series(:newest - 49, :newest)::bigint))) ORDER BY "invitation_groups"."group_id" ASC;
SELECT "charges"."id", "charges"."account_id", "charges"."amount_cents", "charges"."currency", "charges"."license_type", "charges"."quantity", "charges"."reason", "charges"."invitation_id", "charges"."user_id", "charges"."period_start", "charges"."period_end", "charges"."seconds_remaining", "charges"."created_at" FROM "charges" WHERE ("charges"."invitation_id" = ANY(ARRAY(SELECT generate_series(:newest - 49, :newest)::bigint))) ORDER BY "charges"."id" DESC;
