-- Console sessions (docs/console.md, "Sessions"). Not records: a session is a sign-in's state, kept
-- only to end it (sign-out, idle and absolute timeouts) and to check each form's CSRF token. The
-- cookie carries a random token; only its SHA-256 is stored, so a leaked table signs no one in.
CREATE TABLE "console_session" (
    "token_sha256" BYTEA NOT NULL,
    "subject" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "roles" TEXT[],
    "csrf_token" TEXT NOT NULL,
    "signed_in_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    CONSTRAINT "console_session_pkey" PRIMARY KEY ("token_sha256"),
    CONSTRAINT "console_session_token_check" CHECK (octet_length("token_sha256") = 32),
    CONSTRAINT "console_session_roles_check" CHECK ("roles" IS NOT NULL),
    CONSTRAINT "console_session_signed_in_by_check" CHECK ("signed_in_by" IN ('oidc', 'development'))
);
CREATE INDEX "console_session_created_at_idx" ON "console_session"("created_at");
GRANT SELECT, INSERT, UPDATE, DELETE ON "console_session" TO "townsquare_runtime";

-- An OpenID Connect sign-in under way: the browser holds the state in a cookie, the PKCE verifier and
-- the nonce stay here, and the row is deleted when the identity provider calls back (or expires).
CREATE TABLE "console_sign_in" (
    "state_sha256" BYTEA NOT NULL,
    "code_verifier" TEXT NOT NULL,
    "nonce" TEXT NOT NULL,
    "return_to" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "console_sign_in_pkey" PRIMARY KEY ("state_sha256"),
    CONSTRAINT "console_sign_in_state_check" CHECK (octet_length("state_sha256") = 32)
);
GRANT SELECT, INSERT, DELETE ON "console_sign_in" TO "townsquare_runtime";
