-- The operator dashboard (issue 13): its searches read through indexes.

-- Sends per local day (the overview's 7-day chart) and the message log's date filter.
CREATE INDEX message_log_account_time ON message_log(account_id, created_at);

-- The inbound log newest first (without sorting the account's whole log), and searched by phone; a
-- suppression's opt-out keyword found by phone.
CREATE INDEX inbound_messages_account_newest ON inbound_messages(account_id, id);
CREATE INDEX inbound_messages_account_phone ON inbound_messages(account_id, from_phone, id);
