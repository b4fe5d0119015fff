-- Events: inbound messages, conversation windows, opt-out keywords, customer webhooks and the outbox.

-- Every inbound provider message once: a provider's retry of the same message id is ignored.
CREATE TABLE inbound_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  instance_id TEXT NOT NULL REFERENCES instances(id),
  provider_message_id TEXT NOT NULL,
  from_phone TEXT NOT NULL,
  group_id TEXT,
  message_type TEXT NOT NULL,
  message_text TEXT,
  keyword_action TEXT CHECK (keyword_action IN ('opt_out', 'opt_in')),
  received_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (instance_id, provider_message_id)
);
CREATE INDEX inbound_messages_account_time ON inbound_messages(account_id, created_at);

-- Last inbound message per instance and phone (the 3CX conversation window).
CREATE TABLE conversation_windows (
  instance_id TEXT NOT NULL REFERENCES instances(id),
  phone TEXT NOT NULL,
  last_inbound_at INTEGER NOT NULL,
  PRIMARY KEY (instance_id, phone)
) WITHOUT ROWID;

-- Per-account keyword lists (JSON arrays); no row means the defaults.
CREATE TABLE keyword_settings (
  account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
  opt_out TEXT,
  opt_in TEXT
);

CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  destination_url TEXT NOT NULL,
  events TEXT NOT NULL,
  instance_id TEXT REFERENCES instances(id),
  secret TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  disabled_reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX webhooks_account ON webhooks(account_id);

-- One row per event, its payload serialized once: every attempt sends the same bytes.
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  instance_id TEXT,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX events_account_time ON events(account_id, created_at);

-- The outbox: one delivery per event and subscription, written in the transaction that made the event.
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL REFERENCES events(id),
  webhook_id TEXT NOT NULL REFERENCES webhooks(id),
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_status_code INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  delivered_at INTEGER
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_webhook_due ON deliveries(webhook_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);
CREATE INDEX deliveries_event ON deliveries(event_id);
