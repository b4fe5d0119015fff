-- The message log numbered per account (log_id in the API), so one tenant cannot read another's volume
-- from the gaps; and refused attempts over a key's per-minute budget counted, not stored one row each.

ALTER TABLE message_log ADD COLUMN account_seq INTEGER;
UPDATE message_log SET account_seq = numbered.seq
FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY id) AS seq FROM message_log) AS numbered
WHERE numbered.id = message_log.id;
CREATE UNIQUE INDEX message_log_account_seq ON message_log(account_id, account_seq);

-- The last number given per account: never reused, even after retention has removed the rows.
CREATE TABLE message_log_sequences (
  account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
  last_seq INTEGER NOT NULL
);
INSERT INTO message_log_sequences (account_id, last_seq)
SELECT account_id, MAX(account_seq) FROM message_log GROUP BY account_id;

-- Refusals beyond the per-key budget: one row per key, minute and error code, with how many there were.
CREATE TABLE refused_attempts (
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  api_key_id INTEGER NOT NULL DEFAULT 0,
  minute INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (account_id, api_key_id, minute, error_code)
) WITHOUT ROWID;
