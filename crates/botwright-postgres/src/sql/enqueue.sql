-- Inserts a batch in order (ids increase with the position). $1: conversation keys, $2: payloads,
-- $3: not_before times, $4: now.
INSERT INTO outbox (conversation_key, payload, created_at, not_before)
SELECT entry.conversation_key, entry.payload, $4, entry.not_before
FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS entry (conversation_key, payload, not_before, position)
ORDER BY entry.position
RETURNING id
