import type Database from 'better-sqlite3';

/**
 * Read-only look-ups of the outbox for the metrics scrape. They read the events area's `deliveries`
 * table directly (no service of that area answers them) and only through its partial index on pending rows.
 */
export class OutboxGauges {
	private readonly countPending: Database.Statement<[], { n: number }>;
	private readonly countDue: Database.Statement<[number], { n: number }>;
	private readonly selectOldestDue: Database.Statement<[number], { at: number | null }>;

	constructor(db: Database.Database) {
		this.countPending = db.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE status = 'pending'");
		this.countDue = db.prepare(
			"SELECT COUNT(*) AS n FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?",
		);
		this.selectOldestDue = db.prepare(
			"SELECT MIN(next_attempt_at) AS at FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?",
		);
	}

	pending(): number {
		return this.countPending.get()?.n ?? 0;
	}

	due(now: number): number {
		return this.countDue.get(now)?.n ?? 0;
	}

	oldestDueAt(now: number): number | null {
		return this.selectOldestDue.get(now)?.at ?? null;
	}
}
