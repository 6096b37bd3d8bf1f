-- Serialises enqueues per conversation until commit, so that the ids of one conversation's
-- entries are in commit order (a claimer never sees a later entry before an earlier one).
-- Locks are taken in hash order, so concurrent batches cannot deadlock. $1: conversation keys.
-- The two-key advisory lock space is separate from the one of conversation turn locks.
SELECT pg_advisory_xact_lock(2, h)
FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($1::text[]) AS k ORDER BY 1) AS hashes
