import type { Clock } from '../../server/src/clock';

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
	constructor(private current = Date.parse('2026-05-08T10:00:00Z')) {}

	now(): number {
		return this.current;
	}

	set(iso: string): void {
		this.current = Date.parse(iso);
	}

	advance(ms: number): void {
		this.current += ms;
	}
}
