-- Lists of names are JSON arrays (["billing","reports"]), no longer
-- comma-separated text: the service reads them back strictly.
UPDATE users SET permissions = CASE WHEN permissions = '' THEN '[]'
    ELSE '["' || replace(permissions, ',', '","') || '"]' END;
UPDATE invitations SET permissions = CASE WHEN permissions = '' THEN '[]'
    ELSE '["' || replace(permissions, ',', '","') || '"]' END;
UPDATE webhook_endpoints SET events = CASE WHEN events = '' THEN '[]'
    ELSE '["' || replace(events, ',', '","') || '"]' END;
ALTER TABLE users ALTER COLUMN permissions SET DEFAULT '[]';
ALTER TABLE invitations ALTER COLUMN permissions SET DEFAULT '[]';
