-- Validated apart from its addition (20261208030000) so the scan does not hold the exclusive lock.
ALTER TABLE "ledger_entry" VALIDATE CONSTRAINT "ledger_entry_format_check";
