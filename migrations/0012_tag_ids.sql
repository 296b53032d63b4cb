-- 0012: an event's tags are stored on its rows, as `tag_ids bigint[]` (ids of `tags`), instead
-- of one `event_tags` row per tag. Measured (docs/verification.md, "Tag storage layouts
-- measured"): the three tag rows of a trade cost Postgres more than the row itself (19.6 against
-- 8.9 core-s per million events on COPY) and 2.1 times its space. The table `event_tags` is dropped;
-- the view `event_tag_links` has its shape (event_id, ts, tag_id), rebuilt by the kernel with
-- `events_all`. (Not a view named `event_tags`: 0002, which every deployment re-runs as plain SQL
-- on demand, indexes and partitions a table of that name.) Typed tables get a BRIN on ts: tag queries read a time range
-- through it (docs/operations.md, "Tags").
ALTER TABLE events ADD COLUMN IF NOT EXISTS tag_ids bigint[];

DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT table_name FROM family_tables WHERE to_regclass(quote_ident(table_name)) IS NOT NULL LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN IF NOT EXISTS tag_ids bigint[]', t);
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I USING brin (ts)', t || '_ts_brin', t);
    END LOOP;
END;
$$;

-- Carry the links over, then drop the table.
DO $$
DECLARE
    t text;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_class WHERE relname = 'event_tags' AND relkind IN ('r', 'p')) THEN
        CREATE TEMP TABLE dk_tag_arrays ON COMMIT DROP AS
            SELECT event_id, ts, array_agg(tag_id ORDER BY tag_id) AS ids FROM event_tags GROUP BY event_id, ts;
        UPDATE events e SET tag_ids = a.ids FROM dk_tag_arrays a
         WHERE e.event_id = a.event_id AND e.ts = a.ts AND e.tag_ids IS NULL;
        FOR t IN SELECT table_name FROM family_tables WHERE to_regclass(quote_ident(table_name)) IS NOT NULL LOOP
            EXECUTE format('UPDATE %I r SET tag_ids = a.ids FROM dk_tag_arrays a '
                           'WHERE r.event_id = a.event_id AND r.ts = a.ts AND r.tag_ids IS NULL', t);
        END LOOP;
        DROP TABLE event_tags;
    END IF;
END;
$$;

-- Until the kernel rebuilds it with every typed table: the generic table's tags.
DO $$
BEGIN
    IF to_regclass('event_tag_links') IS NULL THEN
        CREATE VIEW event_tag_links AS
            SELECT event_id, ts, unnest(tag_ids) AS tag_id FROM events WHERE tag_ids IS NOT NULL;
    END IF;
END;
$$;
