-- Records how attempts ended, for entries `owner` claimed (pending, leased to it).
-- $1: owner; one element per entry in $2: id, $3: kind (0 retry later, 1 delivered, 2 dead),
-- $4: text (the error, the channel's activity id, the reason), $5: not_before (retries).
-- A delivered entry no longer keeps its payload.
UPDATE outbox AS o
SET state = s.kind,
    attempts = o.attempts + CASE WHEN s.kind = 0 THEN 1 ELSE 0 END,
    not_before = CASE WHEN s.kind = 0 THEN s.not_before ELSE o.not_before END,
    last_error = CASE WHEN s.kind = 0 THEN s.text ELSE o.last_error END,
    outcome = CASE WHEN s.kind = 0 THEN o.outcome ELSE s.text END,
    payload = CASE WHEN s.kind = 1 THEN '' ELSE o.payload END,
    lease_owner = NULL,
    lease_until = NULL
FROM unnest($2::bigint[], $3::smallint[], $4::text[], $5::bigint[]) AS s (id, kind, text, not_before)
WHERE o.id = s.id AND o.state = 0 AND o.lease_owner = $1
