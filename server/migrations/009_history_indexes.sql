-- A large history (a million logged messages) must not slow the start or the hourly housekeeping: the
-- look-ups that scanned whole tables get an index (issue #9; EXPLAIN QUERY PLAN before and after in
-- docs/benchmarks.md).

-- Crash recovery at every start looks for sends interrupted mid-flight. A row is in this index only while
-- its send is in flight, so it stays a few entries small.
CREATE INDEX message_log_sending ON message_log(id) WHERE status = 'sending';

-- Retention removes message log entries (and, through them, their status history) older than the cut-off.
CREATE INDEX message_log_created ON message_log(created_at);

-- Retention removes finished deliveries older than the cut-off; pending ones have their own indexes.
CREATE INDEX deliveries_finished ON deliveries(updated_at) WHERE status IN ('succeeded', 'failed');

-- Retention removes inbound messages and events older than the cut-off (their per-account indexes do not
-- serve a cut-off across every account).
CREATE INDEX inbound_messages_created ON inbound_messages(created_at);
CREATE INDEX events_created ON events(created_at);

-- Retention removes the 3CX event log older than the cut-off.
CREATE INDEX threecx_events_created ON threecx_events(created_at);
