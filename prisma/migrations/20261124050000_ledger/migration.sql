-- Ledger: the append-only store of every fact (docs/ledger.md).

CREATE TABLE "ledger_entry" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL,
    "payload" TEXT NOT NULL,
    "payload_sha256" CHAR(64) NOT NULL,
    -- The appending transaction's id (top-level, 64-bit). The sealer seals only entries whose
    -- transaction id is below the oldest running transaction, so late commits are never skipped.
    "tx_id" XID8 NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT "ledger_entry_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "ledger_entry_kind_recorded_at_idx" ON "ledger_entry"("kind", "recorded_at");
CREATE INDEX "ledger_entry_subject_idx" ON "ledger_entry"("subject");
-- The sealer's scan order.
CREATE INDEX "ledger_entry_tx_id_seq_idx" ON "ledger_entry"("tx_id", "seq");

CREATE TABLE "ledger_leaf" (
    "leaf_index" BIGINT NOT NULL,
    "entry_id" UUID NOT NULL,
    "leaf_hash" BYTEA NOT NULL,
    "sealed_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "ledger_leaf_pkey" PRIMARY KEY ("leaf_index")
);
CREATE UNIQUE INDEX "ledger_leaf_entry_id_key" ON "ledger_leaf"("entry_id");
ALTER TABLE "ledger_leaf" ADD CONSTRAINT "ledger_leaf_entry_id_fkey" FOREIGN KEY ("entry_id") REFERENCES "ledger_entry"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "ledger_tree_node" (
    "level" SMALLINT NOT NULL,
    "index" BIGINT NOT NULL,
    "hash" BYTEA NOT NULL,
    CONSTRAINT "ledger_tree_node_pkey" PRIMARY KEY ("level", "index")
);

CREATE TABLE "ledger_checkpoint" (
    "tree_size" BIGINT NOT NULL,
    "root_hash" BYTEA NOT NULL,
    "issued_at" TIMESTAMPTZ(3) NOT NULL,
    "key_name" TEXT NOT NULL,
    "key_id" CHAR(8) NOT NULL,
    "signed_note" TEXT NOT NULL,
    CONSTRAINT "ledger_checkpoint_pkey" PRIMARY KEY ("tree_size")
);
CREATE INDEX "ledger_checkpoint_issued_at_idx" ON "ledger_checkpoint"("issued_at");

CREATE TABLE "ledger_signing_key" (
    "key_id" CHAR(8) NOT NULL,
    "key_name" TEXT NOT NULL,
    "public_key" TEXT NOT NULL,
    "first_used" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ledger_signing_key_pkey" PRIMARY KEY ("key_id")
);

-- Immutability is enforced by the database, not by the application (DESIGN principle 2).
CREATE FUNCTION "ledger_reject_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger table "%" is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Records are evidence; append a new entry (for example a disposal) instead.';
END
$$;

DO $$
DECLARE t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['ledger_entry', 'ledger_leaf', 'ledger_tree_node', 'ledger_checkpoint', 'ledger_signing_key'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()', t || '_no_change', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()', t || '_no_truncate', t);
  END LOOP;
END
$$;

-- The role the running service uses (docs/operations.md): a NOLOGIN group role, granted to the
-- login role an operator creates. Roles are cluster-wide, so it is created only once.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'townsquare_runtime') THEN
    CREATE ROLE "townsquare_runtime" NOLOGIN;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO "townsquare_runtime";
GRANT SELECT ON "_prisma_migrations" TO "townsquare_runtime";
GRANT SELECT, INSERT ON "ledger_entry", "ledger_leaf", "ledger_tree_node", "ledger_checkpoint", "ledger_signing_key" TO "townsquare_runtime";
GRANT USAGE ON SEQUENCE "ledger_entry_seq_seq" TO "townsquare_runtime";
