-- A subscription's signing secret can be rotated with an overlap (issue 24): until previous_secret_expires_at
-- (epoch milliseconds) each delivery's webhook-signature also carries a signature made with previous_secret.
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at INTEGER;
