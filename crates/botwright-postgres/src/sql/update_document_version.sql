-- Replaces a document at the expected version; no row back when the version differs or the key
-- is missing. $1: key, $2: json, $3: expected version.
UPDATE documents SET json = $2, version = nextval('document_versions')
WHERE key = $1 AND version = $3
RETURNING version
