-- Real providers (issue 10): the last QR code a provider reported for an instance, for the operator's
-- connect screen (CLI and dashboard), and when. Cleared once the instance connects.
ALTER TABLE instances ADD COLUMN qr_code TEXT;
ALTER TABLE instances ADD COLUMN qr_updated_at INTEGER;

-- Provider reports without a message id of their own (a call's offer, its timeout) are recorded once per
-- provider event id, so a provider's webhook retry does not emit the event twice. Pruned with history.
CREATE TABLE provider_event_keys (
  instance_id TEXT NOT NULL,
  event_key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (instance_id, event_key)
) WITHOUT ROWID;
CREATE INDEX provider_event_keys_created ON provider_event_keys(created_at);
