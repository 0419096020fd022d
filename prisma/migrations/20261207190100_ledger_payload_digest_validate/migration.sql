-- Validated apart from its addition (20261207190000) so the scan does not hold the exclusive lock.
ALTER TABLE "ledger_entry" VALIDATE CONSTRAINT "ledger_entry_payload_digest_check";
