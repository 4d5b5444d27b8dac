-- Workflows (notify.workflows): each event type is a workflow, kept as immutable versions. An event runs
-- the version that was current when it was accepted (events.workflow_version; NULL on events accepted
-- before workflows existed: the built-in's first version, which is what they ran). The built-ins are
-- seeded after the migrations (PostgresWorkflows.seed_built_ins), from the shipped definitions.
CREATE TABLE IF NOT EXISTS workflows (
    key             text PRIMARY KEY,
    built_in        boolean NOT NULL DEFAULT false,
    current_version integer NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    archived_at     timestamptz
);
CREATE TABLE IF NOT EXISTS workflow_versions (
    key        text NOT NULL REFERENCES workflows (key) ON DELETE CASCADE,
    version    integer NOT NULL,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (key, version)
);
ALTER TABLE events ADD COLUMN IF NOT EXISTS workflow_version integer;
