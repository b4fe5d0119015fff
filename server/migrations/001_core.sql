-- Gateway core: accounts, keys, instances, suppressions, the message log and the send guards' state.
-- Times are Unix milliseconds. Booleans are 0/1. NULL in an account's override columns means "the plan's value".

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE accounts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  plan TEXT NOT NULL CHECK (plan IN ('starter', 'growth', 'scale')),
  plan_active INTEGER NOT NULL DEFAULT 1 CHECK (plan_active IN (0, 1)),
  daily_limit INTEGER CHECK (daily_limit >= 0),
  monthly_limit INTEGER CHECK (monthly_limit >= 0),
  time_zone TEXT NOT NULL DEFAULT 'UTC',
  default_country TEXT,
  api_access_enabled INTEGER CHECK (api_access_enabled IN (0, 1)),
  threecx_enabled INTEGER CHECK (threecx_enabled IN (0, 1)),
  instance_rate_per_minute INTEGER CHECK (instance_rate_per_minute > 0),
  recipient_rate_per_minute INTEGER CHECK (recipient_rate_per_minute > 0),
  created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  key_prefix TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX api_keys_account ON api_keys(account_id);

CREATE TABLE instances (
  id TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  name TEXT NOT NULL,
  display_name TEXT NOT NULL,
  provider TEXT NOT NULL,
  connection_state TEXT NOT NULL DEFAULT 'disconnected',
  paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
  paused_reason TEXT,
  paused_at INTEGER,
  -- When an operator last resumed it: policy refusals before that no longer count towards a pause.
  reviewed_at INTEGER,
  created_at INTEGER NOT NULL,
  UNIQUE (account_id, name)
);

CREATE TABLE suppressions (
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  phone TEXT NOT NULL,
  reason TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('manual', 'keyword', 'policy')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, phone)
) WITHOUT ROWID;

CREATE TABLE message_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  api_key_id INTEGER REFERENCES api_keys(id),
  source TEXT NOT NULL DEFAULT 'api',
  instance_id TEXT REFERENCES instances(id),
  instance_ref TEXT,
  phone TEXT,
  message_purpose TEXT,
  message_type TEXT,
  message_text TEXT,
  content_hash TEXT,
  status TEXT NOT NULL,
  error_code TEXT,
  http_status INTEGER NOT NULL,
  risk_score INTEGER,
  provider_message_id TEXT,
  idempotency_key TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX message_log_content ON message_log(account_id, content_hash, created_at) WHERE content_hash IS NOT NULL;
CREATE INDEX message_log_instance_error ON message_log(instance_id, error_code, created_at) WHERE error_code IS NOT NULL;
CREATE INDEX message_log_provider_id ON message_log(provider_message_id) WHERE provider_message_id IS NOT NULL;

CREATE TABLE message_status_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  log_id INTEGER NOT NULL REFERENCES message_log(id),
  status TEXT NOT NULL,
  detail TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX message_status_history_log ON message_status_history(log_id);

CREATE TABLE idempotency_keys (
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('in_progress', 'completed')),
  response_status INTEGER,
  response_body TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

-- Accepted sends per account and calendar period ('d:2026-05-08', 'm:2026-05') in the account's time zone.
CREATE TABLE usage_counters (
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  period TEXT NOT NULL,
  used INTEGER NOT NULL,
  PRIMARY KEY (account_id, period)
) WITHOUT ROWID;
