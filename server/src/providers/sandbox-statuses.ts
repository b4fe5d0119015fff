import { isTransientStorageError } from '../db/storage-errors';
import type { Logger } from '../logger';
import type { InboundEvent } from './types';
import type { SandboxProvider } from './sandbox';

/** A report the database refused for a while (a full disk, say) is tried again this much later, up to this many times. */
const RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 2 * 60_000, 10 * 60_000];

/**
 * The sandbox reports `delivered`, then `read`, for each of its sends, `delayMs` apart: the lifecycle a
 * real provider reports. The reports go the same way as a provider's webhooks (`report`); one the database
 * refuses for a while is logged and tried again later, any other failure logged; nothing is thrown out of
 * a timer, and nothing runs after `stop()`.
 */
export class SandboxStatusReports {
	private readonly timers = new Set<NodeJS.Timeout>();
	private readonly pending = new Set<Promise<unknown>>();
	private settledWaiters: (() => void)[] = [];
	private unsubscribe: (() => void) | undefined;
	private stopped = false;

	constructor(
		private readonly sandbox: SandboxProvider,
		private readonly report: (instanceId: string, reported: InboundEvent[]) => Promise<unknown>,
		private readonly logger: Logger,
		private readonly retryDelaysMs: readonly number[] = RETRY_DELAYS_MS,
	) {}

	start(delayMs: number): void {
		this.stopped = false;
		this.unsubscribe ??= this.sandbox.onSend((send) => {
			const status = (value: string, then?: () => void) =>
				this.later(delayMs, () =>
					this.deliver(send.instanceId, { kind: 'status', providerMessageId: send.messageId, status: value }, 0, then),
				);
			status('delivered', () => status('read'));
		});
	}

	/** Resolves once no report is waiting or being stored (tests). */
	settled(): Promise<void> {
		if (this.timers.size === 0 && this.pending.size === 0) return Promise.resolve();
		return new Promise((resolve) => this.settledWaiters.push(resolve));
	}

	private checkSettled(): void {
		if (this.timers.size === 0 && this.pending.size === 0)
			for (const resolve of this.settledWaiters.splice(0)) resolve();
	}

	stop(): void {
		this.stopped = true;
		this.unsubscribe?.();
		this.unsubscribe = undefined;
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
		this.checkSettled();
	}

	private deliver(instanceId: string, event: InboundEvent, failures: number, then?: () => void): void {
		const stored = this.report(instanceId, [event]).then(
			() => then?.(),
			(error: unknown) => {
				const delay = isTransientStorageError(error) ? this.retryDelaysMs[failures] : undefined;
				this.logger.error(
					{ err: error, instanceId, retryInMs: delay ?? null },
					'sandbox status report could not be stored',
				);
				if (delay !== undefined) this.later(delay, () => this.deliver(instanceId, event, failures + 1, then));
			},
		);
		this.pending.add(stored);
		void stored.finally(() => {
			this.pending.delete(stored);
			this.checkSettled();
		});
	}

	private later(delayMs: number, fn: () => void): void {
		if (this.stopped) return;
		const timer = setTimeout(() => {
			this.timers.delete(timer);
			fn();
			this.checkSettled();
		}, delayMs);
		// A pending report never keeps the process alive on its own.
		timer.unref();
		this.timers.add(timer);
	}
}
