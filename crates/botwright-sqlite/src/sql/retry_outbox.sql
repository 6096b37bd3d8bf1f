-- Records a failed attempt and releases the claim, if `owner` holds it.
-- ?1: id, ?2: owner, ?3: not_before, ?4: error.
UPDATE outbox
SET state = 0, attempts = attempts + 1, not_before = ?3, last_error = ?4, lease_owner = NULL, lease_until = NULL
WHERE id = ?1 AND state = 0 AND lease_owner = ?2
