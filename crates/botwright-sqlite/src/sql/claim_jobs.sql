-- Due jobs that no live lease holds, earliest first. ?1: now, ?2: limit.
SELECT id, due_at, payload
FROM jobs
WHERE due_at <= ?1
  AND (lease_until IS NULL OR lease_until <= ?1)
ORDER BY due_at, id
LIMIT ?2
