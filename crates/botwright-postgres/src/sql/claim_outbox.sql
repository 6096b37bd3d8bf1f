-- Claims the oldest pending entry of each conversation, if it is due and no live lease holds it.
-- $1: now, $2: limit, $3: owner, $4: lease until.
-- FOR UPDATE ... SKIP LOCKED: concurrent claimers skip each other's rows, and a row changed by a
-- claimer that committed meanwhile is re-checked against the conditions on `o` before it is taken.
WITH candidates AS (
    SELECT o.id
    FROM outbox AS o
    WHERE o.state = 0
      AND o.not_before <= $1
      AND (o.lease_until IS NULL OR o.lease_until <= $1)
      AND NOT EXISTS (
          SELECT 1 FROM outbox AS earlier
          WHERE earlier.state = 0 AND earlier.conversation_key = o.conversation_key AND earlier.id < o.id
      )
    ORDER BY o.id
    LIMIT $2
    FOR UPDATE OF o SKIP LOCKED
)
UPDATE outbox
SET lease_owner = $3, lease_until = $4
FROM candidates
WHERE outbox.id = candidates.id
RETURNING outbox.id, outbox.conversation_key, outbox.payload, outbox.attempts, outbox.created_at
