import { openDatabase } from '../../server/src/db';
import { InboundRepository, type InboundFilter } from '../../server/src/events/inbound-repository';
import { MessageLogQueries, type LogFilter } from '../../server/src/messaging/log-queries';

const db = openDatabase(':memory:');
afterAll(() => db.close());
const plan = (sql: string, params: Record<string, unknown> = {}) =>
	db
		.prepare(`EXPLAIN QUERY PLAN ${sql}`)
		.all(params)
		.map((row) => (row as { detail: string }).detail)
		.join('; ');

/** Every subset of `names`. */
const subsets = <T>(names: T[]): T[][] =>
	names.reduce<T[][]>((all, name) => [...all, ...all.map((set) => [...set, name])], [[]]);

/** The dashboard's searches seek an index in the order they page, never walking or sorting a whole account's history. */
describe('the dashboard searches use their indexes', () => {
	const log = new MessageLogQueries(db);
	const inbound = new InboundRepository(db);

	const logFilters: Record<string, Partial<LogFilter>> = {
		phone: { phone: '+966501234567' },
		from: { from: 1 },
		to: { to: 2 },
		before: { beforeLogId: 7 },
	};
	const residuals: Record<string, Partial<LogFilter>> = {
		status: { status: 'failed' },
		code: { errorCode: 'x' },
		purpose: { purpose: 'otp' },
	};
	const combos = subsets(Object.keys(logFilters)).flatMap((seek) =>
		[[], ['status'], ['code'], ['purpose'], ['status', 'code', 'purpose']].map((rest) => [seek, rest] as const),
	);

	it.each(combos.map(([seek, rest]) => [[...seek, ...rest].join('+') || 'no filter', seek, rest] as const))(
		"the message log, %s: a SEARCH on the filter's index, its dates and page as ranges",
		(_name, seek, rest) => {
			const filter = Object.assign(
				{},
				...[...seek.map((name) => logFilters[name]), ...rest.map((name) => residuals[name])],
			) as LogFilter;
			const [search, boundary, ...none] = log.plan(filter);
			const index = seek.includes('phone') ? 'message_log_account_phone_time' : 'message_log_account_time';
			const range = [
				seek.includes('from') && 'created_at>?',
				seek.some((name) => name === 'to' || name === 'before') && 'created_at<?',
			]
				.filter(Boolean)
				.join(' AND ');
			const terms = ['account_id=?', seek.includes('phone') && 'phone=?', range].filter(Boolean).join(' AND ');
			expect(search).toContain(`SEARCH message_log USING INDEX ${index} (${terms})`);
			expect(search).not.toMatch(/SCAN message_log|TEMP B-TREE/);
			expect(none).toEqual([]);
			if (rest.length === 0) {
				expect(boundary).toBeUndefined();
			} else {
				// Status, code and purpose filter a bounded window of the same index; where it ends is read from the index alone.
				expect(search).toMatch(/^CO-ROUTINE/);
				expect(boundary).toContain(`SEARCH message_log USING COVERING INDEX ${index} (${terms})`);
				expect(boundary).not.toMatch(/SCAN message_log|TEMP B-TREE/);
			}
		},
	);

	const inboundFilters: Record<string, InboundFilter> = {
		phone: { phone: '+966501234567' },
		from: { from: 1 },
		to: { to: 2 },
		before: { beforeId: 7 },
	};
	it.each(subsets(Object.keys(inboundFilters)).map((seek) => [seek.join('+') || 'no filter', seek] as const))(
		"the inbound log, %s: a SEARCH on the filter's index, its dates and page as ranges on received_at",
		(_name, seek) => {
			const detail = inbound.searchPlan(
				Object.assign({}, ...seek.map((name) => inboundFilters[name])) as InboundFilter,
			);
			const index = seek.includes('phone')
				? 'inbound_messages_account_phone_received'
				: 'inbound_messages_account_received';
			const range = [
				seek.includes('from') && 'received_at>?',
				seek.some((name) => name === 'to' || name === 'before') && 'received_at<?',
			]
				.filter(Boolean)
				.join(' AND ');
			const terms = ['account_id=?', seek.includes('phone') && 'from_phone=?', range].filter(Boolean).join(' AND ');
			expect(detail).toBe(`SEARCH inbound_messages USING INDEX ${index} (${terms})`);
		},
	);

	it.each([
		[
			'sends per day',
			'SELECT status, error_code, COUNT(*) FROM message_log WHERE account_id = @a AND created_at >= @f AND created_at < @t GROUP BY status, error_code',
			'SEARCH message_log USING INDEX message_log_account_time (account_id=? AND created_at>? AND created_at<?)',
		],
		[
			'the log entry a page continues below',
			'SELECT account_seq, created_at, id FROM message_log WHERE account_id = @a AND account_seq <= @b ORDER BY account_seq DESC LIMIT 1',
			'SEARCH message_log USING INDEX message_log_account_seq (account_id=? AND account_seq<?)',
		],
		[
			'the inbound message a page continues below',
			'SELECT id, received_at FROM inbound_messages WHERE account_id = @a AND id <= @b ORDER BY id DESC LIMIT 1',
			'SEARCH inbound_messages USING INDEX inbound_messages_account_newest (account_id=? AND id<?)',
		],
		[
			"a suppression's opt-out keyword",
			"SELECT * FROM inbound_messages WHERE account_id = @a AND from_phone = @p AND keyword_action = 'opt_out' ORDER BY id DESC LIMIT 1",
			'SEARCH inbound_messages USING INDEX inbound_messages_account_phone (account_id=? AND from_phone=?)',
		],
		[
			'a page of the suppression list, newest first (no sort of the whole list)',
			'SELECT * FROM suppressions WHERE account_id = @a AND instr(phone, @p) > 0 ORDER BY created_at DESC, phone LIMIT 51 OFFSET @o',
			'SEARCH suppressions USING INDEX suppressions_account_newest (account_id=?)',
		],
	])('%s', (_name, sql, expected) => {
		const detail = plan(sql, { a: 1, b: 7, f: 0, t: 1, p: '+966501234567', o: 0 });
		expect(detail).toContain(expected);
		// (Sends per day group one day's entries; nothing sorts for its order or scans a table.)
		expect(detail).not.toMatch(/SCAN|FOR ORDER BY/);
	});
});

/** The searches return what a plain filter of the whole log would, page by page, including clock steps backwards and ties. */
describe('the dashboard searches find what they should', () => {
	const data = openDatabase(':memory:');
	afterAll(() => data.close());
	data.prepare("INSERT INTO accounts (name, plan, created_at) VALUES ('a', 'starter', 0), ('b', 'starter', 0)").run();
	const phones = ['+966501234567', '+966501234568', '+966501234569'];
	const statuses = ['sent', 'failed', 'blocked'];
	const insertLog = data.prepare(
		`INSERT INTO message_log (account_id, account_seq, phone, message_purpose, status, error_code, http_status, created_at, updated_at)
     VALUES (@account, @seq, @phone, @purpose, @status, @code, 200, @at, @at)`,
	);
	const insertInbound = data.prepare(
		`INSERT INTO inbound_messages (account_id, instance_id, provider_message_id, from_phone, message_type, received_at, created_at)
     VALUES (@account, 'i', @seq, @phone, 'text', @at, @at)`,
	);
	data.pragma('foreign_keys = OFF');
	let at = 1_000;
	for (let seq = 1; seq <= 600; seq += 1) {
		at += seq % 7 === 0 ? -3 : seq % 3 === 0 ? 0 : 1; // ties, and now and then the clock steps back
		for (const account of [1, 2]) {
			const row = {
				account,
				seq: account === 1 ? seq : seq + 10_000,
				at,
				phone: phones[seq % 3],
				purpose: seq % 5 === 0 ? 'otp' : 'support',
				status: seq % 97 === 0 ? 'failed' : statuses[(seq % 2) * 2],
				code: seq % 97 === 0 ? 'provider_error' : null,
			};
			insertLog.run(row);
			insertInbound.run(row);
		}
	}

	type Row = { id: number; account_seq?: number; created_at: number; received_at?: number };
	const newestFirst = (time: (row: Row) => number) => (a: Row, b: Row) => time(b) - time(a) || b.id - a.id;
	/** Every page of a search, following each page's last entry (or where the search stopped). */
	function allPages<T extends Row>(page: (before?: number) => { rows: T[]; next?: number }): T[] {
		const rows: T[] = [];
		for (let before: number | undefined, pages = 0; pages < 100; pages += 1) {
			const found = page(before);
			rows.push(...found.rows);
			if (found.next === undefined) return rows;
			before = found.next;
		}
		throw new Error('endless paging');
	}

	const log = new MessageLogQueries(data, 40);
	const every = data.prepare('SELECT * FROM message_log WHERE account_id = 1').all() as (Row &
		Record<string, unknown>)[];
	it.each<[string, LogFilter]>([
		['no filter', {}],
		['a phone', { phone: phones[1] }],
		['a phone nobody was sent', { phone: '+4915112345678' }],
		['a date range', { from: 1_100, to: 1_250 }],
		['a phone and a date range', { phone: phones[2], from: 1_050, to: 1_300 }],
		['a status found rarely (the search stops after 40 entries and goes on)', { status: 'failed' }],
		['a status that never happened', { status: 'read' }],
		[
			'status, code, purpose, phone and dates',
			{ status: 'sent', purpose: 'otp', phone: phones[0], from: 1_020, to: 1_400 },
		],
	])('the message log by %s', (_name, filter) => {
		const expected = every
			.filter(
				(row) =>
					(filter.phone === undefined || row.phone === filter.phone) &&
					(filter.status === undefined || row.status === filter.status) &&
					(filter.purpose === undefined || row.message_purpose === filter.purpose) &&
					(filter.from === undefined || row.created_at >= filter.from) &&
					(filter.to === undefined || row.created_at < filter.to),
			)
			.sort(newestFirst((row) => row.created_at));
		const found = allPages((before) => {
			const page = log.searchPage(1, { ...filter, beforeLogId: before }, 11);
			const rows = page.rows.slice(0, 10);
			const next = page.rows.length > 10 ? rows.at(-1)?.account_seq : page.stopped?.after;
			if (page.stopped) expect(page.stopped.examined).toBe(40);
			return { rows, next };
		});
		expect(found.map((row) => row.account_seq)).toEqual(expected.map((row) => row.account_seq));
	});

	it('continues below a log number that is gone (the newest entry under it, included)', () => {
		const below = every.find((row) => row.account_seq === 299) as Row;
		data.prepare('DELETE FROM message_log WHERE account_id = 1 AND account_seq = 300').run();
		const rows = log.search(1, { beforeLogId: 300 }, 5);
		expect(rows[0]).toMatchObject({ account_seq: 299, created_at: below.created_at });
		expect(log.search(1, { beforeLogId: 0 }, 5)).toEqual([]);
	});

	const inbound = new InboundRepository(data);
	const received = data.prepare('SELECT * FROM inbound_messages WHERE account_id = 1').all() as (Row & {
		from_phone: string;
		received_at: number;
	})[];
	it.each<[string, InboundFilter]>([
		['no filter', {}],
		['a phone', { phone: phones[0] }],
		['a date range', { from: 1_100, to: 1_250 }],
		['a phone and a date range', { phone: phones[2], from: 1_050, to: 1_300 }],
	])('the inbound log by %s', (_name, filter) => {
		const expected = received
			.filter(
				(row) =>
					(filter.phone === undefined || row.from_phone === filter.phone) &&
					(filter.from === undefined || row.received_at >= filter.from) &&
					(filter.to === undefined || row.received_at < filter.to),
			)
			.sort(newestFirst((row) => row.received_at as number));
		const found = allPages((before) => {
			const rows = inbound.search(1, { ...filter, beforeId: before }, 11);
			return { rows: rows.slice(0, 10), next: rows.length > 10 ? rows[9].id : undefined };
		});
		expect(found.map((row) => row.id)).toEqual(expected.map((row) => row.id));
	});
});
