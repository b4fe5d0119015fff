-- 3CX middleware: integrations, their event log, and the outbox subscription that
-- forwards inbound WhatsApp messages to an integration's 3CX destination.

CREATE TABLE threecx_integrations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  instance_id TEXT NOT NULL REFERENCES instances(id),
  name TEXT NOT NULL,
  -- The X-WhatsApp-Gateway-3CX-Secret value; shown once, compared as SHA-256 digests in constant time.
  secret TEXT NOT NULL,
  -- Optional HMAC key for X-WhatsApp-Gateway-Signature (NULL: no signature required).
  hmac_secret TEXT,
  -- JSON array of CIDR ranges; NULL or [] allows any address.
  ip_allowlist TEXT,
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  outbound_enabled INTEGER NOT NULL DEFAULT 1 CHECK (outbound_enabled IN (0, 1)),
  call_events_enabled INTEGER NOT NULL DEFAULT 1 CHECK (call_events_enabled IN (0, 1)),
  -- JSON object: event type -> {"enabled": 0|1, "text": "..."}; missing types use the defaults.
  templates TEXT NOT NULL DEFAULT '{}',
  business_name TEXT NOT NULL DEFAULT '',
  strict_window INTEGER NOT NULL DEFAULT 1 CHECK (strict_window IN (0, 1)),
  window_hours INTEGER NOT NULL DEFAULT 24 CHECK (window_hours BETWEEN 1 AND 720),
  destination_url TEXT,
  destination_format TEXT NOT NULL DEFAULT 'gateway' CHECK (destination_format IN ('gateway', 'generic_sms')),
  -- The WhatsApp number 3CX knows this line by (the Generic SMS envelope's "to").
  line_number TEXT,
  -- The customer-webhook row that carries inbound forwards (managed by this integration).
  webhook_id TEXT REFERENCES webhooks(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX threecx_integrations_account ON threecx_integrations(account_id);

-- Every authenticated 3CX event and what became of it (sent, logged, skipped, refused).
CREATE TABLE threecx_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  integration_id INTEGER NOT NULL REFERENCES threecx_integrations(id) ON DELETE CASCADE,
  event_type TEXT NOT NULL,
  phone TEXT,
  external_message_id TEXT,
  conversation_id TEXT,
  agent_extension TEXT,
  queue TEXT,
  call_time TEXT,
  duration_seconds INTEGER,
  status TEXT NOT NULL CHECK (status IN ('processed', 'skipped', 'refused')),
  action TEXT NOT NULL,
  reason TEXT,
  error_code TEXT,
  log_id INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX threecx_events_integration ON threecx_events(integration_id, id);
-- The cooldown reads the last template sent per integration, event type and phone.
CREATE INDEX threecx_events_cooldown ON threecx_events(integration_id, event_type, phone, created_at) WHERE action = 'sent';

-- Subscriptions owned by another area (a 3CX integration) are changed only through their owner and are
-- not listed by /api/webhooks; `format` picks the payload shape their deliveries carry.
ALTER TABLE webhooks ADD COLUMN managed_by TEXT;
ALTER TABLE webhooks ADD COLUMN format TEXT NOT NULL DEFAULT 'gateway';
