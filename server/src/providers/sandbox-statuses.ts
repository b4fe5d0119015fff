import type { Logger } from '../logger';
import type { InboundEvent } from './types';
import type { SandboxProvider } from './sandbox';

/** A report that could not be stored (the disk is full, say) is tried again this much later, up to this many times. */
const RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 2 * 60_000, 10 * 60_000];

/**
 * The sandbox reports `delivered`, then `read`, for each of its sends, `delayMs` apart: the lifecycle a
 * real provider reports. The reports go the same way as a provider's webhooks (`report`); one that fails
 * is logged and tried again later, never thrown out of the timer.
 */
export class SandboxStatusReports {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Set<Promise<unknown>>();
  private settledWaiters: (() => void)[] = [];
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly sandbox: SandboxProvider,
    private readonly report: (instanceId: string, reported: InboundEvent[]) => Promise<unknown>,
    private readonly logger: Logger,
    private readonly retryDelaysMs: readonly number[] = RETRY_DELAYS_MS,
  ) {}

  start(delayMs: number): void {
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
    if (this.timers.size === 0 && this.pending.size === 0) for (const resolve of this.settledWaiters.splice(0)) resolve();
  }

  stop(): void {
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
        const delay = this.retryDelaysMs[failures];
        this.logger.error({ err: error, instanceId, retryInMs: delay ?? null }, 'sandbox status report could not be stored');
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
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
      this.checkSettled();
    }, delayMs);
    this.timers.add(timer);
  }
}
