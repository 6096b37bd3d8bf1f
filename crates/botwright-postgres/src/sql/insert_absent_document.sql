-- Creates a document that must not exist yet; no row back when it does. $1: key, $2: json.
INSERT INTO documents (key, json, version) VALUES ($1, $2, nextval('document_versions'))
ON CONFLICT (key) DO NOTHING
RETURNING version
