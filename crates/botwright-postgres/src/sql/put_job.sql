-- Creates or replaces a job (releasing any lease). $1: id, $2: due_at, $3: payload.
INSERT INTO jobs (id, due_at, payload, lease_owner, lease_until) VALUES ($1, $2, $3, NULL, NULL)
ON CONFLICT (id) DO UPDATE SET
    due_at = excluded.due_at, payload = excluded.payload, lease_owner = NULL, lease_until = NULL
