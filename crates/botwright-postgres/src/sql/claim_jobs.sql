-- Claims due jobs that no live lease holds, earliest first.
-- $1: now, $2: limit, $3: owner, $4: lease until.
WITH due AS (
    SELECT id
    FROM jobs
    WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
    ORDER BY due_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE jobs
SET lease_owner = $3, lease_until = $4
FROM due
WHERE jobs.id = due.id
RETURNING jobs.id, jobs.due_at, jobs.payload
