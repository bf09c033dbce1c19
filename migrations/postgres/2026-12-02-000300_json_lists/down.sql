-- Back to comma-separated names (names hold no quotes, commas or brackets).
ALTER TABLE users ALTER COLUMN permissions SET DEFAULT '';
ALTER TABLE invitations ALTER COLUMN permissions SET DEFAULT '';
UPDATE users SET permissions = translate(permissions, '[]"', '');
UPDATE invitations SET permissions = translate(permissions, '[]"', '');
UPDATE webhook_endpoints SET events = translate(events, '[]"', '');
