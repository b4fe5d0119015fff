-- Real providers (issue 10): the last QR code a provider reported for an instance, for the operator's
-- connect screen (CLI and dashboard), and when. Cleared once the instance connects.
ALTER TABLE instances ADD COLUMN qr_code TEXT;
ALTER TABLE instances ADD COLUMN qr_updated_at INTEGER;
