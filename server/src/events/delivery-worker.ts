import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { computeSignature, SIGNATURE_HEADERS } from '../../../nodes/shared/signature';
import type { Clock } from '../clock';
import type { Db } from '../db';
import { CommitQueue } from '../db/commit-queue';
import type { Logger } from '../logger';
import { isIP } from 'node:net';
import { guardedLookup, isAllowedAddress } from './destination';
import type { DueDelivery, EventsRepository } from './repository';

const MAX_RETRY_AFTER_MS = 24 * 3600_000;
/** A receiver's answer body is read and dropped; past this size the connection is cut instead. */
const MAX_RESPONSE_BYTES = 64 * 1024;

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

interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  retryAfterMs: number | null;
}

/** `Retry-After` as seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS);
}

function drain(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) stream.destroy();
    });
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
  });
}

/**
 * Delivers the outbox to customer webhooks: signed, with a timeout, 2xx only counting, no redirects
 * followed, retries on the schedule (or later when the receiver sends Retry-After), 410 disabling the
 * subscription. In-flight attempts live in memory: after a crash they are still `pending` and are sent
 * again, so delivery is at least once and the receiver dedupes on X-WhatsApp-Gateway-Delivery.
 */
export class DeliveryWorker {
  private readonly writes: CommitQueue;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  /** Parsed destinations, with the IP-literal check done once per URL. */
  private readonly destinations = new Map<string, { url: URL; refused: string | undefined }>();
  private readonly inFlight = new Set<number>();
  private readonly inFlightPerWebhook = new Map<string, number>();
  /** Subscriptions that may have pending deliveries, served round-robin. */
  private readonly activeWebhooks = new Set<string>();
  private cursor = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private kickScheduled = false;
  private running = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: DeliveryWorkerDeps) {
    this.writes = new CommitQueue(deps.db);
    // The guarded lookup checks the address actually connected to (no DNS rebinding past the check).
    const lookup = guardedLookup({ allowPrivate: deps.options.allowPrivate });
    const agentOptions = { keepAlive: true, maxSockets: deps.options.concurrency, lookup };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.refreshActiveWebhooks();
    // The poll also finds deliveries written by another process (the CLI) or come due by the clock.
    this.pollTimer = setInterval(() => {
      this.refreshActiveWebhooks();
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
    for (const id of this.deps.repo.webhooksWithPendingDeliveries()) this.activeWebhooks.add(id);
  }

  /** Looks for due deliveries soon (called when events are recorded and when an attempt ends). */
  kick(): void {
    if (!this.running || this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      this.pump();
    });
  }

  /** Stops taking new deliveries and waits for the attempts in flight to finish and be recorded. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.inFlight.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.writes.flush();
  }

  /** Resolves once nothing is in flight and nothing is due (tests and the benchmark). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.inFlight.size === 0) {
        this.writes.flush();
        const due = this.deps.repo.dueDeliveries(this.deps.clock.now(), 1);
        if (due.length === 0) return;
        this.refreshActiveWebhooks();
        this.pump();
      }
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /**
   * Fills free slots round-robin over the subscriptions with due deliveries. One subscription may hold at
   * most three quarters of the slots (half while others are waiting too), so one slow or dead receiver
   * with a backlog cannot stall the deliveries of everyone else.
   */
  private pump(): void {
    const { concurrency } = this.deps.options;
    let free = concurrency - this.inFlight.size;
    if (!this.running || free <= 0 || this.activeWebhooks.size === 0) return;
    const now = this.deps.clock.now();
    const webhooks = [...this.activeWebhooks];
    // Even alone, a subscription leaves a quarter of the slots free for events that arrive for others.
    const cap = Math.max(1, webhooks.length === 1 ? concurrency - Math.max(1, Math.floor(concurrency / 4)) : Math.ceil(concurrency / 2));
    this.cursor = (this.cursor + 1) % webhooks.length;
    for (let i = 0; i < webhooks.length && free > 0; i += 1) {
      const webhookId = webhooks[(this.cursor + i) % webhooks.length];
      const busy = this.inFlightPerWebhook.get(webhookId) ?? 0;
      const take = Math.min(cap - busy, free);
      if (take <= 0) continue;
      const due = this.deps.repo
        .dueDeliveriesFor(webhookId, now, take + busy)
        .filter((delivery) => !this.inFlight.has(delivery.id))
        .slice(0, take);
      if (due.length === 0) {
        if (busy === 0 && !this.deps.repo.hasPendingDeliveries(webhookId)) this.activeWebhooks.delete(webhookId);
        continue;
      }
      for (const delivery of due) this.launch(delivery);
      free -= due.length;
    }
  }

  private launch(delivery: DueDelivery): void {
    const webhookId = delivery.webhook_id;
    this.inFlight.add(delivery.id);
    this.inFlightPerWebhook.set(webhookId, (this.inFlightPerWebhook.get(webhookId) ?? 0) + 1);
    void this.attempt(delivery).finally(() => {
      this.inFlight.delete(delivery.id);
      const left = (this.inFlightPerWebhook.get(webhookId) ?? 1) - 1;
      if (left === 0) this.inFlightPerWebhook.delete(webhookId);
      else this.inFlightPerWebhook.set(webhookId, left);
      if (this.inFlight.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      this.kick();
    });
  }

  private async attempt(delivery: DueDelivery): Promise<void> {
    try {
      if (delivery.webhook_enabled !== 1) {
        await this.record(delivery, { statusCode: null, error: 'the webhook is disabled', retryAfterMs: null }, 'give_up');
        return;
      }
      const result = await this.post(delivery);
      await this.record(delivery, result);
    } catch (error) {
      this.deps.logger.error({ err: error, deliveryId: delivery.id }, 'recording a delivery attempt failed');
    }
  }

  private destination(href: string): { url: URL; refused: string | undefined } {
    let known = this.destinations.get(href);
    if (!known) {
      const url = new URL(href);
      // Node does not call the agent's lookup for an IP literal, so such a destination is checked here.
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const refused =
        isIP(host) !== 0 && !isAllowedAddress(host, { allowPrivate: this.deps.options.allowPrivate })
          ? `EDESTINATIONREFUSED: ${host} is not an allowed destination`
          : undefined;
      known = { url, refused };
      if (this.destinations.size > 10_000) this.destinations.clear();
      this.destinations.set(href, known);
    }
    return known;
  }

  /**
   * One signed POST with Node's own client (redirects are never followed by it): resolves with the status,
   * or the error, within the attempt timeout, which covers connecting, the answer and reading its body.
   */
  private post(delivery: DueDelivery): Promise<AttemptResult> {
    const { url, refused } = this.destination(delivery.destination_url);
    if (refused) return Promise.resolve({ statusCode: null, error: refused, retryAfterMs: null });
    const timestamp = String(Math.floor(this.deps.clock.now() / 1000));
    const body = Buffer.from(delivery.payload, 'utf8');
    const secure = url.protocol === 'https:';
    const timeoutMs = this.deps.options.timeoutMs;
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const finish = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const request = (secure ? https : http).request(
        url,
        {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': body.length,
            'User-Agent': 'WhatsApp-Gateway-Webhooks/1',
            [SIGNATURE_HEADERS.event]: delivery.event_type,
            [SIGNATURE_HEADERS.timestamp]: timestamp,
            [SIGNATURE_HEADERS.signature]: computeSignature(delivery.secret, timestamp, body),
            [SIGNATURE_HEADERS.delivery]: delivery.event_id,
          },
        },
        (response) => {
          const retryAfter = response.headers['retry-after'];
          const result = {
            statusCode: response.statusCode ?? null,
            error: null,
            retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, this.deps.clock.now()),
          };
          void drain(response).then(() => finish(result));
        },
      );
      const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      request.on('error', (error: NodeJS.ErrnoException) => {
        finish({ statusCode: null, error: error.code ? `${error.code}: ${error.message}` : error.message, retryAfterMs: null });
      });
      request.end(body);
    });
  }

  private record(delivery: DueDelivery, result: AttemptResult, force?: 'give_up'): Promise<void> {
    const now = this.deps.clock.now();
    const { repo, logger } = this.deps;
    const schedule = this.deps.options.retryScheduleMs;
    const attemptNumber = delivery.attempts + 1;
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const error = result.error ?? (ok ? null : `HTTP ${result.statusCode}${result.statusCode !== null && result.statusCode >= 300 && result.statusCode < 400 ? ' (redirects are not followed)' : ''}`);
    return this.writes.run(() => {
      if (ok) {
        repo.completeDelivery(delivery.id, { status: 'succeeded', statusCode: result.statusCode, error: null }, now);
        return;
      }
      if (result.statusCode === 410) {
        repo.setEnabled(delivery.webhook_id, false, 'the destination answered 410 Gone', now);
        repo.completeDelivery(delivery.id, { status: 'failed', statusCode: 410, error }, now);
        logger.warn({ webhookId: delivery.webhook_id }, 'webhook disabled: destination answered 410 Gone');
        return;
      }
      if (force === 'give_up' || attemptNumber >= schedule.length) {
        repo.completeDelivery(delivery.id, { status: 'failed', statusCode: result.statusCode, error }, now);
        logger.warn({ deliveryId: delivery.id, attempts: attemptNumber, error }, 'delivery failed for good');
        return;
      }
      const delay = Math.max(schedule[attemptNumber], result.retryAfterMs ?? 0);
      repo.scheduleRetry(delivery.id, now + delay, result.statusCode, error, now);
    });
  }
}
