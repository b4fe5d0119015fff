import type { Logger } from '../logger';
import type { InboundEvent } from './types';
import type { SandboxProvider } from './sandbox';

/**
 * The sandbox reports `delivered`, then `read`, for each of its sends, `delayMs` apart: the lifecycle a
 * real provider reports. The reports go the same way as a provider's webhooks (`report`); one that fails
 * (a full disk, say) is logged, never thrown out of the timer.
 */
export class SandboxStatusReports {
  private readonly timers = new Set<NodeJS.Timeout>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly sandbox: SandboxProvider,
    private readonly report: (instanceId: string, reported: InboundEvent[]) => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  start(delayMs: number): void {
    this.unsubscribe ??= this.sandbox.onSend((send) => {
      const status = (value: string, then?: () => void) =>
        this.later(delayMs, () => {
          this.report(send.instanceId, [{ kind: 'status', providerMessageId: send.messageId, status: value }]).then(
            () => then?.(),
            (error: unknown) => this.logger.error({ err: error, instanceId: send.instanceId }, 'sandbox status report failed'),
          );
        });
      status('delivered', () => status('read'));
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private later(delayMs: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, delayMs);
    this.timers.add(timer);
  }
}
