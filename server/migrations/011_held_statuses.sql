-- A provider's status report can reach the gateway before the outcome of the send it reports on is
-- committed (the provider answers the send and posts `sent` or `delivered` at once). Such a report is held
-- here, keyed by instance and provider message id, while a send of that instance is with its provider, and
-- applied in order in the transaction that records the send's provider message id. Held reports nobody
-- claims expire (events/inbound.ts, HELD_STATUS_TTL_MS).
CREATE TABLE held_statuses (
  id INTEGER PRIMARY KEY,
  instance_id TEXT NOT NULL,
  provider_message_id TEXT NOT NULL,
  status TEXT NOT NULL,
  provider_status TEXT,
  -- The provider's time of the status, when it gave one (ms).
  reported_at INTEGER,
  failure_reason TEXT,
  failure_detail TEXT,
  received_at INTEGER NOT NULL,
  UNIQUE (instance_id, provider_message_id, status)
);
CREATE INDEX held_statuses_received ON held_statuses(received_at);
