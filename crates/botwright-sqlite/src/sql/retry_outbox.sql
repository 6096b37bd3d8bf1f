-- Records a failed attempt and releases the claim. ?1: id, ?2: not_before, ?3: error.
UPDATE outbox
SET state = 0, attempts = attempts + 1, not_before = ?2, last_error = ?3, lease_owner = NULL, lease_until = NULL
WHERE id = ?1
