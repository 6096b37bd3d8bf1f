-- Writes a document whatever is there. $1: key, $2: json.
INSERT INTO documents (key, json, version) VALUES ($1, $2, nextval('document_versions'))
ON CONFLICT (key) DO UPDATE SET json = excluded.json, version = excluded.version
RETURNING version
