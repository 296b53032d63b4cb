-- 0001_core: extensions and the control-plane relations of SPEC §10.
-- Re-runnable: every statement is IF NOT EXISTS / CREATE OR REPLACE. Applied by the kernel's
-- migrator inside one transaction (no BEGIN/COMMIT here, no CREATE INDEX CONCURRENTLY).

CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- Schema versions per family; immutable per (name, version).
CREATE TABLE IF NOT EXISTS schemas (
    schema_id  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL CHECK (length(name) > 0),
    version    int  NOT NULL CHECK (version > 0),
    body       jsonb NOT NULL,
    status     text NOT NULL DEFAULT 'active',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT schemas_name_version_key UNIQUE (name, version)
);

CREATE TABLE IF NOT EXISTS producers (
    producer_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) > 0),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

CREATE TABLE IF NOT EXISTS subjects (
    subject_id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    subject_key       text NOT NULL UNIQUE CHECK (length(subject_key) > 0),
    attrs             jsonb NOT NULL DEFAULT '{}'::jsonb,
    first_seen_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at      timestamptz NOT NULL DEFAULT now(),
    current_schema_id uuid REFERENCES schemas (schema_id)
);
CREATE INDEX IF NOT EXISTS subjects_current_schema_id_idx ON subjects (current_schema_id);

CREATE TABLE IF NOT EXISTS producer_subjects (
    producer_id uuid NOT NULL REFERENCES producers (producer_id) ON DELETE CASCADE,
    subject_id  uuid NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (producer_id, subject_id)
);

-- History of a subject's schemas (current one lives in subjects.current_schema_id).
CREATE TABLE IF NOT EXISTS subject_schemas (
    subject_id uuid NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    schema_id  uuid NOT NULL REFERENCES schemas (schema_id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject_id, schema_id)
);

-- Tag dictionary; keys and values compare case-insensitively (SPEC §2).
CREATE TABLE IF NOT EXISTS tags (
    tag_id bigserial PRIMARY KEY,
    key    citext NOT NULL CHECK (length(key) > 0),
    value  citext NOT NULL CHECK (length(value) > 0),
    CONSTRAINT tags_key_value_key UNIQUE (key, value)
);

CREATE TABLE IF NOT EXISTS producer_tokens (
    token_id    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    producer_id uuid NOT NULL REFERENCES producers (producer_id) ON DELETE CASCADE,
    jti         text NOT NULL UNIQUE,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    notes       text
);
CREATE INDEX IF NOT EXISTS producer_tokens_producer_idx ON producer_tokens (producer_id, issued_at DESC);

CREATE TABLE IF NOT EXISTS revoked_tokens (
    jti        text PRIMARY KEY,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    reason     text
);

CREATE TABLE IF NOT EXISTS producer_keys (
    fingerprint   text PRIMARY KEY,
    producer_id   uuid NOT NULL REFERENCES producers (producer_id) ON DELETE CASCADE,
    pubkey        text NOT NULL,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'approved', 'revoked', 'superseded')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    approved_at   timestamptz,
    revoked_at    timestamptz,
    superseded_at timestamptz,
    superseded_by text REFERENCES producer_keys (fingerprint),
    notes         text
);
-- At most one approved key per producer (key rotation supersedes the old one atomically).
CREATE UNIQUE INDEX IF NOT EXISTS producer_keys_one_approved_idx
    ON producer_keys (producer_id) WHERE status = 'approved';
CREATE INDEX IF NOT EXISTS producer_keys_producer_idx ON producer_keys (producer_id);

-- Registration audit. SPEC §5.1 [decision]: requests from unknown or bad keys are audited
-- without creating producer/key rows, so `fingerprint` is plain text (always set: it is part of
-- the (fingerprint, nonce) replay key) and the foreign key lives in the nullable
-- `key_fingerprint`, set only when the key row exists.
CREATE TABLE IF NOT EXISTS producer_registrations (
    reg_id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    fingerprint     text NOT NULL,
    key_fingerprint text REFERENCES producer_keys (fingerprint) ON DELETE SET NULL,
    payload         jsonb,
    sig             text,
    nonce           text NOT NULL,
    ts              timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'replay',
                        'invalid_sig', 'invalid_cert', 'revoked', 'superseded')),
    reason          text,
    reviewed_at     timestamptz,
    reviewer        text,
    CONSTRAINT producer_registrations_fp_nonce_key UNIQUE (fingerprint, nonce)
);
CREATE INDEX IF NOT EXISTS producer_registrations_status_ts_idx ON producer_registrations (status, ts DESC);
CREATE INDEX IF NOT EXISTS producer_registrations_key_idx ON producer_registrations (key_fingerprint);
