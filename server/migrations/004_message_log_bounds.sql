-- The message log numbered per account (log_id in the API), so one tenant cannot read another's volume
-- from the gaps; and refused attempts over a key's per-minute budget counted, not stored one row each.

-- Entries logged before this migration keep the log_id they were given (the row id), so every number a
-- client already holds still finds its message.
ALTER TABLE message_log ADD COLUMN account_seq INTEGER;
UPDATE message_log SET account_seq = id;
CREATE UNIQUE INDEX message_log_account_seq ON message_log(account_id, account_seq);

-- The last number given per account: never reused, even after retention has removed the rows. Existing
-- accounts go on after the highest row id ever given (AUTOINCREMENT keeps it), whichever account had it.
CREATE TABLE message_log_sequences (
  account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
  last_seq INTEGER NOT NULL
);
INSERT INTO message_log_sequences (account_id, last_seq)
SELECT accounts.id, given.last_id
FROM accounts, (SELECT seq AS last_id FROM sqlite_sequence WHERE name = 'message_log') AS given;

-- Refusals beyond the per-key budget: one row per key, minute and error code, with how many there were.
CREATE TABLE refused_attempts (
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  api_key_id INTEGER NOT NULL DEFAULT 0,
  minute INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (account_id, api_key_id, minute, error_code)
) WITHOUT ROWID;
