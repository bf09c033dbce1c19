-- (The user ids filled in on scim_users stay: the previous version reads them too.)
DROP INDEX scim_users_account_unlinked_idx;
DROP INDEX scim_users_account_external_idx;
DROP INDEX invitations_accepted_user_idx;
