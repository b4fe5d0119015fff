import type { CommitQueue } from '../db/commit-queue';
import type { Instance } from '../instances/service';
import type { CheckedAttempt } from './attempt';
import type { RefusalBudget, UsageCounters, VelocityState } from './limits';
import type { MessagingRepository } from './repository';
import { providerPace, tatRefusingUntil } from './velocity';

/** The velocity key of an instance's provider pace (a provider's own slow-down pushes it forward). */
export const providerPaceKey = (instanceId: string) => `p:${instanceId}`;

/** The quota periods an accepted send counts against: the account's day and month. */
const countedPeriods = ({ periods }: CheckedAttempt) => [`d:${periods.day}`, `m:${periods.month}`];

export interface ReservationDeps {
	repo: MessagingRepository;
	writes: CommitQueue;
	usage: UsageCounters;
	velocity: VelocityState;
	refusals: RefusalBudget;
	/** The instance's provider pace in sends per minute, none when undefined. */
	pacePerMinute(instance: Instance): number | undefined;
}

/**
 * Every write to the limiters a send makes, in one place: the quota unit and velocity slots a checked
 * attempt takes, the unit given back when the provider definitely did not send, the back-off of an
 * instance's provider pace when the provider said to slow down, and the budget of refusals logged in full. The in-memory counters are authoritative
 * (check and take in one synchronous job, so a limit of N lets exactly N through); each change inside a job
 * is undone if that job's transaction rolls back.
 */
export class Reservations {
	constructor(private readonly deps: ReservationDeps) {}

	/**
	 * Inside the job whose guards checked the attempt: takes the quota unit and the velocity slots in memory
	 * and writes the usage with the open log entry.
	 */
	take(attempt: CheckedAttempt): void {
		const { usage, velocity, repo, writes } = this.deps;
		const accountId = attempt.account.id;
		const counted = countedPeriods(attempt);
		usage.add(accountId, counted, 1);
		writes.onRollback(() => usage.add(accountId, counted, -1));
		for (const slot of attempt.velocity) {
			const before = velocity.get(slot.key);
			velocity.set(slot.key, slot.tat);
			writes.onRollback(() => velocity.restore(slot.key, before));
		}
		velocity.sweepIfGrown(attempt.now);
		repo.addToUsage(accountId, counted, 1);
	}

	/** The provider definitely did not send: the quota unit comes back at once in memory... */
	giveBack(attempt: CheckedAttempt): void {
		this.deps.usage.add(attempt.account.id, countedPeriods(attempt), -1);
	}

	/** ...and in the database with the outcome (inside the outcome's job). */
	giveBackStored(attempt: CheckedAttempt): void {
		this.deps.repo.addToUsage(attempt.account.id, countedPeriods(attempt), -1);
	}

	/**
	 * Inside a refusal's job: whether the key's budget of refusals logged in full a minute has room (then it
	 * is taken, and given back if the job rolls back); past it, a refusal is only counted.
	 */
	takeRefusal(accountId: number, apiKeyId: number | null, now: number): boolean {
		const { refusals, writes } = this.deps;
		const taken = refusals.take(accountId, apiKeyId, now);
		writes.onRollback(() => refusals.giveBack(accountId, apiKeyId, now));
		return taken;
	}

	/** The provider said to slow down for `slowDownMs`: the instance's provider pace refuses sends until then. */
	backOffProvider(instance: Instance, now: number, slowDownMs: number): void {
		const pace = this.deps.pacePerMinute(instance);
		if (pace === undefined) return;
		const key = providerPaceKey(instance.id);
		const until = tatRefusingUntil(now + slowDownMs, providerPace(pace));
		this.deps.velocity.set(key, Math.max(this.deps.velocity.get(key) ?? 0, until));
	}
}
