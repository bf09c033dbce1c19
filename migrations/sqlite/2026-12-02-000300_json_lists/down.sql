-- Back to comma-separated names (names hold no quotes, commas or brackets).
UPDATE users SET permissions = replace(replace(replace(permissions, '[', ''), ']', ''), '"', '');
UPDATE invitations SET permissions = replace(replace(replace(permissions, '[', ''), ']', ''), '"', '');
UPDATE webhook_endpoints SET events = replace(replace(replace(events, '[', ''), ']', ''), '"', '');
