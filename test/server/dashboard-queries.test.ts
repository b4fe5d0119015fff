import { openDatabase } from '../../server/src/db';

/** The dashboard's searches walk an index in the order they page, never sorting a whole account's history. */
describe('the dashboard searches use their indexes', () => {
  const db = openDatabase(':memory:');
  afterAll(() => db.close());
  const plan = (sql: string, params: Record<string, unknown>) =>
    db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params).map((row) => (row as { detail: string }).detail).join('; ');

  it.each([
    [
      'the message log, newest first',
      `SELECT * FROM message_log WHERE account_id = @a AND (@b IS NULL OR account_seq < @b) AND (@s IS NULL OR status = @s)
       ORDER BY account_seq DESC LIMIT 51`,
      'message_log_account_seq',
    ],
    [
      'sends per day',
      'SELECT status, error_code, COUNT(*) FROM message_log WHERE account_id = @a AND created_at >= @f AND created_at < @t GROUP BY status, error_code',
      'message_log_account_time',
    ],
    ['the inbound log, newest first', 'SELECT * FROM inbound_messages WHERE account_id = @a AND (@b IS NULL OR id < @b) ORDER BY id DESC LIMIT 51', 'inbound_messages_account_newest'],
    [
      'the inbound log by phone',
      'SELECT * FROM inbound_messages WHERE account_id = @a AND from_phone = @p ORDER BY id DESC LIMIT 51',
      'inbound_messages_account_phone',
    ],
  ])('%s', (_name, sql, index) => {
    const detail = plan(sql, { a: 1, b: null, s: null, f: 0, t: 1, p: '+966501234567' });
    expect(detail).toContain(`USING INDEX ${index}`);
    expect(detail).not.toContain('FOR ORDER BY');
  });
});
