-- Platform connections managed through the API by the `admin` role (docs/operations.md, "Platform
-- connections"). A row overrides the platform's environment variables entirely; no row, the
-- environment applies. Credentials are sealed with AES-256-GCM under CONNECTION_CREDENTIALS_KEY
-- (never stored or returned in clear); the fingerprint is an HMAC under that key, so it identifies
-- a credential without revealing anything about it. Changes are recorded in the ledger
-- (`platform.connection`), so the table itself is current state, updated in place.
CREATE TABLE "platform_connection" (
    "platform" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL,
    "settings" JSONB NOT NULL,
    "credentials_sealed" TEXT,
    "credential_names" TEXT[],
    "credentials_fingerprint" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_by" TEXT NOT NULL,
    CONSTRAINT "platform_connection_pkey" PRIMARY KEY ("platform"),
    CONSTRAINT "platform_connection_platform_check" CHECK ("platform" IN ('facebook', 'instagram', 'x', 'linkedin', 'website'))
);
-- The health of each platform's outbound API and webhooks, whether its credentials come from a
-- connection or the environment: written by the job worker and the webhook routes.
CREATE TABLE "platform_health" (
    "platform" TEXT NOT NULL,
    "last_success_at" TIMESTAMPTZ(3),
    "last_error_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "last_webhook_at" TIMESTAMPTZ(3),
    CONSTRAINT "platform_health_pkey" PRIMARY KEY ("platform")
);

GRANT SELECT, INSERT, UPDATE ON "platform_connection" TO "townsquare_runtime";
GRANT SELECT, INSERT, UPDATE ON "platform_health" TO "townsquare_runtime";
