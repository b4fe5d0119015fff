import type { Clock } from '../clock';
import type { Db } from '../db';
import type { Logger } from '../logger';
import { AttemptRecorder } from './attempt-recorder';
import { SignedPoster } from './delivery-client';
import type { DueDelivery } from './outbox-repository';
import type { EventsRepository } from './repository';

export interface DeliveryOptions {
	retryScheduleMs: number[];
	timeoutMs: number;
	concurrency: number;
	pollMs: number;
	/** Private and loopback destinations (self-hosted n8n next door); link-local and metadata never. */
	allowPrivate: boolean;
}

export interface DeliveryWorkerDeps {
	db: Db;
	repo: EventsRepository;
	clock: Clock;
	logger: Logger;
	options: DeliveryOptions;
}

/**
 * Delivers the outbox to customer webhooks: signed, with a timeout, 2xx only counting, no redirects
 * followed, retries on the schedule (or later when the receiver sends Retry-After), 410 disabling the
 * subscription. In-flight attempts live in memory: after a crash they are still `pending` and are sent
 * again, so delivery is at least once and the receiver dedupes on X-WhatsApp-Gateway-Delivery.
 */
export class DeliveryWorker {
	private readonly recorder: AttemptRecorder;
	private readonly poster: SignedPoster;
	private readonly inFlight = new Set<number>();
	private readonly inFlightPerWebhook = new Map<string, number>();
	private readonly inFlightPerAccount = new Map<number, number>();
	/** Subscriptions that may have pending deliveries. */
	private readonly activeWebhooks = new Set<string>();
	/** Round-robin positions: over accounts, and over each account's subscriptions. */
	private accountCursor = 0;
	private readonly webhookCursor = new Map<number, number>();
	private pollTimer: NodeJS.Timeout | undefined;
	private kickScheduled = false;
	private readonly readTogether: ReturnType<Db['transaction']>;
	private running = false;
	private idleWaiters: (() => void)[] = [];

	constructor(private readonly deps: DeliveryWorkerDeps) {
		const { db, repo, clock, logger } = deps;
		this.recorder = new AttemptRecorder({ db, repo, clock, logger, retryScheduleMs: deps.options.retryScheduleMs });
		this.readTogether = deps.db.transaction((work: () => void) => work());
		this.poster = new SignedPoster(deps.clock, deps.options);
	}

	start(): void {
		if (this.running) return;
		this.running = true;
		this.refreshActiveWebhooks();
		// The poll also finds deliveries written by another process (the CLI) or come due by the clock.
		this.pollTimer = setInterval(() => {
			this.safely('polling for deliveries', () => this.refreshActiveWebhooks());
			this.kick();
		}, this.deps.options.pollMs);
		this.kick();
	}

	/** New deliveries were recorded for these subscriptions. */
	notify(webhookIds: string[]): void {
		for (const id of webhookIds) this.activeWebhooks.add(id);
		this.kick();
	}

	private refreshActiveWebhooks(): void {
		for (const id of this.deps.repo.outbox.webhooksWithPendingDeliveries()) this.activeWebhooks.add(id);
	}

	/** Looks for due deliveries soon (called when events are recorded and when an attempt ends). */
	kick(): void {
		if (!this.running || this.kickScheduled) return;
		this.kickScheduled = true;
		setImmediate(() => {
			this.kickScheduled = false;
			this.safely('looking for due deliveries', () => this.pumpInOneRead());
		});
	}

	/**
	 * Work run from a timer: a database that refuses a read or write for a while (a full disk, a lock) is
	 * logged, and the next poll tries again; nothing is thrown out of the event loop.
	 */
	private safely(what: string, work: () => void): void {
		try {
			work();
		} catch (error) {
			this.deps.logger.error({ err: error }, `delivery worker: ${what} failed; the next poll tries again`);
		}
	}

	/** Stops taking new deliveries and waits for the attempts in flight to finish and be recorded. */
	async stop(): Promise<void> {
		this.running = false;
		if (this.pollTimer) clearInterval(this.pollTimer);
		if (this.inFlight.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
		this.recorder.flush();
	}

	/** Resolves once nothing is in flight and nothing is due (tests and the benchmark). */
	async idle(): Promise<void> {
		for (;;) {
			if (this.inFlight.size === 0) {
				this.recorder.flush();
				const due = this.deps.repo.outbox.dueDeliveries(this.deps.clock.now(), 1);
				if (due.length === 0) return;
				this.refreshActiveWebhooks();
				this.pumpInOneRead();
			}
			await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
		}
	}

	/**
	 * A pump reads a due list and a row per delivery it launches; in one read transaction SQLite takes its
	 * read lock once for all of them instead of once per statement (the pump writes nothing itself: attempts
	 * record their outcome later, through the group commit).
	 */
	private pumpInOneRead(): void {
		this.readTogether.deferred(() => this.pump());
	}

	/**
	 * Fills free slots fairly: round-robin over accounts first, one delivery per account per round, then
	 * round-robin over that account's subscriptions. A quarter of the slots is kept for accounts below their
	 * fair share (the slots divided by the accounts with work), so however many subscriptions one tenant has
	 * and however slow its receivers are, another tenant's event finds a free slot at once. A subscription
	 * whose receiver keeps failing gets one attempt at a time until one succeeds.
	 */
	private pump(): void {
		const { concurrency } = this.deps.options;
		let free = concurrency - this.inFlight.size;
		if (!this.running || free <= 0 || this.activeWebhooks.size === 0) return;
		const now = this.deps.clock.now();
		const webhooksByAccount = new Map<number, string[]>();
		for (const webhookId of this.activeWebhooks) {
			const state = this.recorder.subscription(webhookId);
			if (!state) {
				this.activeWebhooks.delete(webhookId);
				continue;
			}
			const list = webhooksByAccount.get(state.accountId);
			if (list) list.push(webhookId);
			else webhooksByAccount.set(state.accountId, [webhookId]);
		}
		const accounts = [...webhooksByAccount.keys()];
		if (accounts.length === 0) return;
		const busyAccounts = new Set([...accounts, ...this.inFlightPerAccount.keys()]).size;
		const reserve = Math.max(1, Math.floor(concurrency / 4));
		const ceiling = Math.max(1, concurrency - reserve);
		const fairShare = Math.max(1, Math.min(ceiling, Math.floor(concurrency / busyAccounts)));
		this.accountCursor = (this.accountCursor + 1) % accounts.length;
		const queues = new Map<string, number[]>();
		const done = new Set<number>();
		while (free > 0 && done.size < accounts.length) {
			for (let i = 0; i < accounts.length && free > 0; i += 1) {
				const accountId = accounts[(this.accountCursor + i) % accounts.length];
				if (done.has(accountId)) continue;
				const held = this.inFlightPerAccount.get(accountId) ?? 0;
				// Below its fair share an account may use the reserve; above it, only what the reserve leaves.
				const mayTake = held < fairShare || (held < ceiling && free > reserve);
				const delivery = mayTake
					? this.nextDue(accountId, webhooksByAccount.get(accountId) ?? [], queues, now, free)
					: undefined;
				if (!delivery) {
					done.add(accountId);
					continue;
				}
				this.launch(delivery, accountId);
				free -= 1;
			}
		}
	}

	/** The next due delivery of one account, its subscriptions taken in turn; undefined when none may go now. */
	private nextDue(
		accountId: number,
		webhookIds: string[],
		queues: Map<string, number[]>,
		now: number,
		free: number,
	): DueDelivery | undefined {
		const start = this.webhookCursor.get(accountId) ?? 0;
		for (let i = 0; i < webhookIds.length; i += 1) {
			const index = (start + i) % webhookIds.length;
			const webhookId = webhookIds[index];
			const busy = this.inFlightPerWebhook.get(webhookId) ?? 0;
			const failing = this.recorder.isFailing(webhookId);
			if (failing && busy > 0) continue;
			let queue = queues.get(webhookId);
			if (!queue) {
				queue = this.deps.repo.outbox
					.dueDeliveryIdsFor(webhookId, now, busy + free)
					.filter((id) => !this.inFlight.has(id));
				queues.set(webhookId, queue);
				if (queue.length === 0 && busy === 0 && !this.deps.repo.outbox.hasPendingDeliveries(webhookId)) {
					this.activeWebhooks.delete(webhookId);
				}
			}
			let delivery: DueDelivery | undefined;
			while (!delivery && queue.length > 0) delivery = this.deps.repo.outbox.pendingDelivery(queue.shift() as number);
			if (!delivery) continue;
			// A failing subscription's one attempt: nothing more of it in this pump.
			if (failing) queue.length = 0;
			this.webhookCursor.set(accountId, (index + 1) % webhookIds.length);
			return delivery;
		}
		return undefined;
	}

	private launch(delivery: DueDelivery, accountId: number): void {
		const webhookId = delivery.webhook_id;
		this.inFlight.add(delivery.id);
		const adjust = <K>(counts: Map<K, number>, key: K, by: number) => {
			const value = (counts.get(key) ?? 0) + by;
			if (value <= 0) counts.delete(key);
			else counts.set(key, value);
		};
		adjust(this.inFlightPerWebhook, webhookId, 1);
		adjust(this.inFlightPerAccount, accountId, 1);
		void this.attempt(delivery).finally(() => {
			this.inFlight.delete(delivery.id);
			adjust(this.inFlightPerWebhook, webhookId, -1);
			adjust(this.inFlightPerAccount, accountId, -1);
			if (this.inFlight.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
			this.kick();
		});
	}

	private async attempt(delivery: DueDelivery): Promise<void> {
		try {
			if (delivery.webhook_enabled !== 1) {
				await this.recorder.record(
					delivery,
					{ statusCode: null, error: 'the webhook is disabled', retryAfterMs: null },
					'give_up',
				);
				return;
			}
			const result = await this.poster.post(delivery);
			await this.recorder.record(delivery, result);
		} catch (error) {
			this.deps.logger.error({ err: error, deliveryId: delivery.id }, 'recording a delivery attempt failed');
		}
	}
}
