-- Hardening (issue 8): per-account webhook subscription limits and each subscription's delivery health.

-- Reviewed override of the plan's subscription limit; NULL means the plan's value.
ALTER TABLE accounts ADD COLUMN webhook_limit INTEGER CHECK (webhook_limit >= 0);

-- Written by the delivery worker after each attempt; shown by GET /api/webhooks and `webhooks list`.
ALTER TABLE webhooks ADD COLUMN last_success_at INTEGER;
ALTER TABLE webhooks ADD COLUMN last_failure_at INTEGER;
ALTER TABLE webhooks ADD COLUMN last_failure_reason TEXT;
ALTER TABLE webhooks ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
