-- 3CX requests refused with 429 webhook_rate_limited, counted per integration and minute (one row per
-- minute however many there were, so a PBX over its limit cannot fill the disk). `3cx show` and the
-- dashboard read them; they go with the 3CX event log's retention and with their integration.
CREATE TABLE threecx_rate_limited (
  integration_id INTEGER NOT NULL REFERENCES threecx_integrations(id) ON DELETE CASCADE,
  minute INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (integration_id, minute)
) WITHOUT ROWID;
