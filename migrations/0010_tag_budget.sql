-- 0010: each tag dictionary entry records the producer whose event added it, so that one
-- producer cannot grow the global dictionary without bound (`server.max_tags_per_producer`,
-- docs/producers.md "Limits"): the writers count a producer's entries when it adds new ones.
-- Entries added before this migration have no producer and count against none.
ALTER TABLE tags ADD COLUMN IF NOT EXISTS created_by uuid;
CREATE INDEX IF NOT EXISTS tags_created_by_idx ON tags (created_by) WHERE created_by IS NOT NULL;
