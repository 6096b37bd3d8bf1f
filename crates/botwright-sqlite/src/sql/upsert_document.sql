-- ?1: key, ?2: json, ?3: version.
INSERT INTO documents (key, json, version) VALUES (?1, ?2, ?3)
ON CONFLICT (key) DO UPDATE SET json = excluded.json, version = excluded.version
