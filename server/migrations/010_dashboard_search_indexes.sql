-- The dashboard's log searches seek instead of walking an account's whole log (review of issue 13).
-- Every search pages newest first by (time, rowid); each index below ends in the time column, and SQLite
-- appends the rowid to every index, so an index both finds a filter's rows and gives them in page order.

-- The message log by recipient (and by recipient and date).
CREATE INDEX IF NOT EXISTS message_log_account_phone_time ON message_log(account_id, phone, created_at);

-- The inbound log by the time a message was received (the time it shows and filters on), and by sender.
CREATE INDEX IF NOT EXISTS inbound_messages_account_received ON inbound_messages(account_id, received_at);
CREATE INDEX IF NOT EXISTS inbound_messages_account_phone_received ON inbound_messages(account_id, from_phone, received_at);

-- The suppression list, newest first then by number (a page no longer sorts the account's whole list).
CREATE INDEX IF NOT EXISTS suppressions_account_newest ON suppressions(account_id, created_at DESC, phone);
