-- Every person of the account is a SCIM User (issue 11). A person who joined
-- without SCIM (the bootstrap manager, REST invitations) gets its scim_users
-- row when SCIM first sees it, not when it is invited: the REST invite runs
-- no more statements. The unique indexes on scim_users (invitation_id) and
-- (user_id) keep concurrent first sightings to one id.

-- The user an invitation became: a user's SCIM id is the one its invitation
-- had. Partial, so an invite (accepted_user_id NULL) writes no entry.
CREATE INDEX invitations_accepted_user_idx ON invitations (accepted_user_id)
    WHERE accepted_user_id IS NOT NULL;
-- `filter=externalId eq "…"`.
CREATE INDEX scim_users_account_external_idx ON scim_users (account_id, external_id);
-- The people SCIM knows who are not users (pending or deactivated), in id order.
CREATE INDEX scim_users_account_unlinked_idx ON scim_users (account_id, id)
    WHERE user_id IS NULL;

-- A SCIM User whose invitation was accepted names its user.
UPDATE scim_users
   SET user_id = (SELECT i.accepted_user_id FROM invitations i WHERE i.id = scim_users.invitation_id)
 WHERE user_id IS NULL
   AND EXISTS (SELECT 1 FROM invitations i
                WHERE i.id = scim_users.invitation_id AND i.accepted_user_id IS NOT NULL);
