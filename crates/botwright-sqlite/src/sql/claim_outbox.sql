-- The oldest pending entry of each conversation, if it is due and no live lease holds it.
-- ?1: now, ?2: limit.
SELECT o.id, o.conversation_key, o.payload, o.attempts, o.created_at
FROM outbox AS o
WHERE o.state = 0
  AND NOT EXISTS (
      SELECT 1 FROM outbox AS earlier
      WHERE earlier.state = 0 AND earlier.conversation_key = o.conversation_key AND earlier.id < o.id
  )
  AND o.not_before <= ?1
  AND (o.lease_until IS NULL OR o.lease_until <= ?1)
ORDER BY o.id
LIMIT ?2
