-- Idempotency-Key records: operational, pruned after their retention (24 hours).
CREATE TABLE "idempotency_record" (
    "actor" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "route" TEXT NOT NULL,
    "request_sha256" CHAR(64) NOT NULL,
    "status_code" INTEGER,
    "response_body" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "idempotency_record_pkey" PRIMARY KEY ("actor", "key")
);
CREATE INDEX "idempotency_record_created_at_idx" ON "idempotency_record"("created_at");
GRANT SELECT, INSERT, UPDATE, DELETE ON "idempotency_record" TO "townsquare_runtime";
