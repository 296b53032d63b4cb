-- 0002_events: event storage (DESIGN.md "Storage": one write per event).
--
-- There is no global event_index table: a second identity table doubles the write cost. Each
-- storage table (generic `events`, every typed `md_<family>`) carries the identity columns and a
-- primary key on (event_id[, row_no], ts), so a redelivered event is a no-op via
-- INSERT … ON CONFLICT DO NOTHING. Partitions are monthly ranges on ts (UTC boundaries).
--
-- No foreign keys from events to producers/schemas/subjects: an FK check costs an index probe per
-- row on the hot path, and the kernel has already validated producer, subject and schema before
-- the row is written. No time-window CHECK either: a CHECK using now() is not immutable (rows
-- would turn invalid as time passes, breaking restores); the kernel pre-checks the window and
-- DLQs `ts_out_of_range` (SPEC §2).

-- Creates the missing monthly partitions `<parent>_YYYY_MM` of any table partitioned by RANGE on a
-- timestamptz, for `months` months starting with the month containing `from_month`. Idempotent
-- and safe to call concurrently (per-parent advisory lock). Returns how many it created.
-- SECURITY DEFINER so a less privileged kernel role can add partitions to tables it does not own.
CREATE OR REPLACE FUNCTION ensure_month_partitions(parent regclass, from_month date, months int)
RETURNS int
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    parent_schema text;
    parent_name   text;
    month_start   date;
    part_name     text;
    created       int := 0;
BEGIN
    IF months IS NULL OR months < 1 OR months > 120 THEN
        RAISE EXCEPTION 'ensure_month_partitions: months must be 1..120, got %', months;
    END IF;
    SELECT n.nspname, c.relname INTO parent_schema, parent_name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = parent AND c.relkind = 'p';
    IF parent_name IS NULL THEN
        RAISE EXCEPTION 'ensure_month_partitions: % is not a partitioned table', parent;
    END IF;
    IF length(parent_name) > 55 THEN
        RAISE EXCEPTION 'ensure_month_partitions: name % too long for monthly partitions', parent_name;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('dk_partitions:' || parent::oid::text));
    FOR i IN 0 .. months - 1 LOOP
        month_start := (date_trunc('month', from_month::timestamp) + make_interval(months => i))::date;
        part_name := parent_name || '_' || to_char(month_start, 'YYYY_MM');
        IF to_regclass(format('%I.%I', parent_schema, part_name)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
                parent_schema, part_name, parent_schema, parent_name,
                to_char(month_start, 'YYYY-MM-DD') || ' 00:00:00+00',
                to_char((month_start + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00');
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END;
$$;

-- Generic events: families without typed columns keep their normalized JSON here.
CREATE TABLE IF NOT EXISTS events (
    event_id    uuid        NOT NULL,
    ts          timestamptz NOT NULL,
    ts_event    timestamptz,
    subject_id  uuid        NOT NULL,
    producer_id uuid        NOT NULL,
    schema_id   uuid        NOT NULL,
    payload     jsonb       NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS events_subject_ts_idx ON events (subject_id, ts);
CREATE INDEX IF NOT EXISTS events_ts_brin_idx ON events USING brin (ts);

-- Tag links, partitioned like events (ts repeated so links prune with their events). The
-- tag_id foreign key is kept: tags are upserted first in the same transaction, and a dangling
-- tag id would be unrecoverable.
CREATE TABLE IF NOT EXISTS event_tags (
    event_id uuid        NOT NULL,
    ts       timestamptz NOT NULL,
    tag_id   bigint      NOT NULL REFERENCES tags (tag_id),
    PRIMARY KEY (event_id, ts, tag_id)
) PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS event_tags_tag_ts_idx ON event_tags (tag_id, ts);

-- Current and next month exist from the start; the kernel calls ensure_month_partitions
-- periodically (and before writing a batch that reaches a new month) for the rest.
SELECT ensure_month_partitions('events'::regclass, (now() AT TIME ZONE 'UTC')::date, 2);
SELECT ensure_month_partitions('event_tags'::regclass, (now() AT TIME ZONE 'UTC')::date, 2);

-- Typed per-family tables (md_<family>) the kernel created, with their declared columns as JSON
-- (array of {name, type, nullable, allowed_values, description}). Read by the kernel to detect
-- declaration changes and to rebuild the events_all view.
CREATE TABLE IF NOT EXISTS family_tables (
    family     text PRIMARY KEY CHECK (family ~ '^[a-z][a-z0-9_]*$'),
    table_name text NOT NULL UNIQUE,
    columns    jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Monthly counters, incremented by the writer for rows actually inserted.
CREATE TABLE IF NOT EXISTS stats_event_month (
    partition_month date   PRIMARY KEY,
    event_count     bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS stats_tag_month (
    tag_id          bigint NOT NULL REFERENCES tags (tag_id),
    partition_month date   NOT NULL,
    event_count     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tag_id, partition_month)
);
