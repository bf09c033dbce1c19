UPDATE audit_events SET actor_type = 'system' WHERE actor_type = 'scim_token';
ALTER TABLE audit_events DROP COLUMN actor_scim_token_id;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_type_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_type_check
    CHECK (actor_type IN ('user', 'invitee', 'system'));
DROP TABLE scim_users;
DROP TABLE scim_tokens;
