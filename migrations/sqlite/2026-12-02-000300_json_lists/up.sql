-- Lists of names are JSON arrays (["billing","reports"]), no longer
-- comma-separated text: the service reads them back strictly. (The columns'
-- DEFAULT '' stays: SQLite changes a default only by rebuilding the table, and
-- the service always writes them.)
UPDATE users SET permissions = CASE WHEN permissions = '' THEN '[]'
    ELSE '["' || replace(permissions, ',', '","') || '"]' END;
UPDATE invitations SET permissions = CASE WHEN permissions = '' THEN '[]'
    ELSE '["' || replace(permissions, ',', '","') || '"]' END;
UPDATE webhook_endpoints SET events = CASE WHEN events = '' THEN '[]'
    ELSE '["' || replace(events, ',', '","') || '"]' END;
