import { createHash } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import type { Account, AccountService } from '../accounts/service';
import { periodKeys, type PeriodKeys } from '../accounts/time';
import type { Clock } from '../clock';
import type { Db } from '../db';
import { CommitQueue } from '../db/commit-queue';
import { ApiError, errorBody } from '../http/errors';
import { parseJsonObject } from '../http/json-body';
import type { Instance, InstanceService } from '../instances/service';
import { events } from '../events/catalog';
import type { EventOutbox } from '../events/outbox';
import type { Logger } from '../logger';
import { ProviderError, type Provider } from '../providers/types';
import {
  BLOCK_THRESHOLD,
  inspectContent,
  normalizeForMatching,
  PAUSE_AFTER_VIOLATIONS,
  POLICY_RULES,
  scoreContent,
  type PolicyVerdict,
} from './policy';
import { UsageCounters, VelocityState } from './counters';
import { MessagingRepository, type MessageLogRow } from './repository';
import { ALLOWED_PURPOSES, isAllowedPurpose, parseSendRequest, type MessagePurpose, type SendRequest } from './request';
import type { SuppressionService } from './suppressions';
import { gcra, perMinute } from './velocity';

/** What the HTTP layer writes back: status, JSON body and extra headers. */
export interface Answer {
  status: number;
  body: object;
  headers: Record<string, string>;
}

export interface SendSuccess {
  success: true;
  status: 'sent';
  message_id: string;
  log_id: number;
}

export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60_000;
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7E]{1,255}$/;

/** One send attempt as it moves through the guards; each guard fills in what the next ones need. */
export interface Attempt {
  now: number;
  account: Account;
  apiKeyId: number | null;
  source: string;
  idempotencyKey: string | undefined;
  body: Record<string, unknown> | undefined;
  purpose?: MessagePurpose;
  request?: SendRequest;
  instance?: Instance;
  contentHash?: string;
  periods?: PeriodKeys;
  velocity?: { key: string; tat: number }[];
  policy?: PolicyVerdict;
  /** This attempt holds its Idempotency-Key: its outcome settles the key in the same transaction. */
  idempotencyClaimed?: boolean;
  /** Set once the provider has been called: from then on the message may exist. */
  providerCalled?: boolean;
}

/** A guard passes by returning and refuses by throwing an ApiError with the seed's code. */
export type Guard = (attempt: Attempt) => void;

export interface SendServiceDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  accounts: AccountService;
  instances: InstanceService;
  suppressions: SuppressionService;
  providers: Record<string, Provider>;
  /** Receives message.sent / message.failed in the same transaction as the log entry's outcome. */
  outbox: EventOutbox;
}

/** How far a sent message has come; a provider report only ever moves it forward. */
const STATUS_RANK: Record<string, number> = { sending: 0, sent: 1, delivered: 2, read: 3 };

export interface HttpSendInput {
  isJson: boolean;
  authorization: string | undefined;
  idempotencyKey: string | undefined;
  /** Reads the body; called only after authentication, so strangers cannot make the gateway buffer. */
  readBody: () => Promise<string>;
}

function answerFor(error: ApiError): Answer {
  return { status: error.status, body: errorBody(error), headers: error.headers };
}

function contentHash(request: SendRequest): string {
  const media = request.media ? (request.media.url ?? sha256(request.media.base64 ?? '')) : '';
  return sha256(`${normalizeForMatching(request.text)}\n${media}`);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const retryAfterSeconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

/**
 * The guarded send pipeline (ARCHITECTURE §3). Steps 1–3 and idempotency are in `handleHttp`; steps 4–13 are
 * the ordered `API_GUARDS`; the reservation of quota and velocity happens in the same synchronous turn as
 * the checks, so concurrent requests cannot both take the last unit.
 */
export class SendService {
  private readonly repo: MessagingRepository;
  private readonly writes: CommitQueue;
  private readonly usageCounters: UsageCounters;
  private readonly velocityState = new VelocityState();
  /** Recipients of reserved sends not yet committed, per account and content: the policy counts them too. */
  private readonly pendingContent = new Map<string, string[]>();

  constructor(private readonly deps: SendServiceDeps) {
    this.repo = new MessagingRepository(deps.db);
    this.writes = new CommitQueue(deps.db);
    this.usageCounters = new UsageCounters(this.repo);
  }

  // ---- steps 4–13 -------------------------------------------------------------------------------------

  readonly requireApiAccess: Guard = ({ account }) => {
    if (!account.modules.apiAccess) throw new ApiError('module_not_enabled', { module: 'api_access' });
  };

  readonly requireActivePlan: Guard = ({ account }) => {
    if (!account.planActive) throw new ApiError('active_plan_required', { plan: account.plan.name });
  };

  readonly requirePurpose: Guard = (attempt) => {
    const value = attempt.body?.message_purpose;
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
      throw new ApiError('message_purpose_required', { field: 'message_purpose' });
    }
    const purpose = typeof value === 'string' ? value.trim().toLowerCase() : '';
    if (!isAllowedPurpose(purpose)) {
      throw new ApiError('message_purpose_not_allowed', {
        message_purpose: typeof value === 'string' ? value.slice(0, 64) : `(${Array.isArray(value) ? 'array' : typeof value})`,
        allowed: ALLOWED_PURPOSES,
      });
    }
    attempt.purpose = purpose;
  };

  readonly validateFields: Guard = (attempt) => {
    const parsed = parseSendRequest(attempt.body ?? {}, attempt.purpose as MessagePurpose, attempt.account.defaultCountry);
    if ('errors' in parsed) throw new ApiError('validation_error', { fields: parsed.errors });
    attempt.request = parsed.request;
    attempt.contentHash = contentHash(parsed.request);
  };

  readonly resolveInstance: Guard = (attempt) => {
    const ref = (attempt.request as SendRequest).instanceRef;
    const instance = this.deps.instances.findForAccount(attempt.account.id, ref);
    if (!instance) throw new ApiError('invalid_instance', { instance_id: ref });
    attempt.instance = instance;
  };

  readonly requireActiveInstance: Guard = ({ instance }) => {
    if (instance?.paused) {
      throw new ApiError('instance_paused_for_review', { instance_id: instance.id, reason: instance.pausedReason });
    }
  };

  readonly requireNotSuppressed: Guard = ({ account, request }) => {
    const suppression = this.deps.suppressions.find(account.id, (request as SendRequest).phone);
    if (suppression) {
      throw new ApiError('recipient_suppressed', { phone: suppression.phone, source: suppression.source });
    }
  };

  readonly enforceQuota: Guard = (attempt) => {
    const { account, now } = attempt;
    const periods = periodKeys(now, account.timeZone);
    attempt.periods = periods;
    const usedToday = this.usageCounters.get(account.id, `d:${periods.day}`);
    if (usedToday >= account.limits.daily) {
      throw new ApiError(
        'daily_message_limit_exceeded',
        { action: 'block', risk_score: 90, limit: account.limits.daily, used: usedToday },
        { 'Retry-After': retryAfterSeconds(periods.msUntilDayEnd) },
      );
    }
    const usedThisMonth = this.usageCounters.get(account.id, `m:${periods.month}`);
    if (usedThisMonth >= account.limits.monthly) {
      throw new ApiError(
        'monthly_message_limit_exceeded',
        { action: 'block', risk_score: 90, limit: account.limits.monthly, used: usedThisMonth },
        { 'Retry-After': retryAfterSeconds(periods.msUntilMonthEnd) },
      );
    }
  };

  readonly enforceVelocity: Guard = (attempt) => {
    const { account, now } = attempt;
    const instance = attempt.instance as Instance;
    const phone = (attempt.request as SendRequest).phone;
    const limiters = [
      { scope: 'instance', key: `i:${instance.id}`, perMinuteRate: account.velocity.instancePerMinute },
      { scope: 'recipient', key: `r:${account.id}:${phone}`, perMinuteRate: account.velocity.recipientPerMinute },
    ];
    attempt.velocity = [];
    for (const limiter of limiters) {
      const decision = gcra(this.velocityState.get(limiter.key), now, perMinute(limiter.perMinuteRate));
      if (!decision.allowed) {
        throw new ApiError(
          'sending_throttled',
          {
            action: 'throttle',
            risk_score: 60,
            scope: limiter.scope,
            limit: limiter.perMinuteRate,
            used: limiter.perMinuteRate,
            window_seconds: 60,
            retry_after_seconds: Math.ceil(decision.retryAfterMs / 1000),
          },
          { 'Retry-After': retryAfterSeconds(decision.retryAfterMs) },
        );
      }
      attempt.velocity.push({ key: limiter.key, tat: decision.newTat });
    }
  };

  readonly enforceContentPolicy: Guard = (attempt) => {
    const { account, now } = attempt;
    const request = attempt.request as SendRequest;
    const hash = attempt.contentHash as string;
    const history = this.repo.contentHistory({
      accountId: account.id,
      hash,
      phone: request.phone,
      bulkSince: now - POLICY_RULES.bulk_identical_content.windowMs,
      repeatSince: now - POLICY_RULES.repeated_identical_content.windowMs,
    });
    const pending = this.pendingContent.get(`${account.id}|${hash}`) ?? [];
    const pendingOthers = new Set(pending.filter((phone) => phone !== request.phone)).size;
    const pendingRepeats = pending.length - pending.filter((phone) => phone !== request.phone).length;
    const verdict = scoreContent(inspectContent(request.text), {
      otherRecipientsWithSameContent: history.otherRecipients + pendingOthers,
      repeatsToRecipient: history.repeats + pendingRepeats,
    });
    attempt.policy = verdict;
    if (verdict.blocked) {
      throw new ApiError('policy_violation', {
        action: 'block',
        risk_score: verdict.riskScore,
        threshold: BLOCK_THRESHOLD,
        reasons: verdict.reasons,
      });
    }
  };

  /** Steps 4–13 of `/api/send-message`, in the fixed order. */
  readonly apiGuards: readonly Guard[] = [
    this.requireApiAccess,
    this.requireActivePlan,
    this.requirePurpose,
    this.validateFields,
    this.resolveInstance,
    this.requireActiveInstance,
    this.requireNotSuppressed,
    this.enforceQuota,
    this.enforceVelocity,
    this.enforceContentPolicy,
  ];

  // ---- the HTTP entry point -----------------------------------------------------------------------------

  async handleHttp(input: HttpSendInput): Promise<Answer> {
    if (!input.isJson) return answerFor(new ApiError('unsupported_media_type'));
    let identity: ReturnType<AccountService['authenticate']>;
    try {
      identity = this.deps.accounts.authenticate(input.authorization);
    } catch (error) {
      if (error instanceof ApiError) return answerFor(error);
      throw error;
    }
    const keyIsValid = input.idempotencyKey === undefined || IDEMPOTENCY_KEY_PATTERN.test(input.idempotencyKey);
    const attempt: Attempt = {
      now: this.deps.clock.now(),
      account: identity.account,
      apiKeyId: identity.key.id,
      source: 'api',
      idempotencyKey: keyIsValid ? input.idempotencyKey : undefined,
      body: undefined,
    };
    try {
      const raw = await input.readBody();
      attempt.now = this.deps.clock.now();
      attempt.body = parseJsonObject(raw);
      if (!keyIsValid) {
        throw new ApiError('validation_error', {
          fields: { 'Idempotency-Key': 'must be 1-255 visible ASCII characters' },
        });
      }
    } catch (error) {
      if (error instanceof ApiError) return this.refuse(attempt, error);
      throw error;
    }
    return this.sendOnce(attempt, this.apiGuards);
  }

  /**
   * Runs the guards and the send once per Idempotency-Key: a replay of a completed send returns the
   * first answer; the same key with another body is refused.
   */
  async sendOnce(attempt: Attempt, guards: readonly Guard[]): Promise<Answer> {
    const key = attempt.idempotencyKey;
    if (key === undefined) return this.send(attempt, guards);
    const accountId = attempt.account.id;
    const requestHash = sha256(stringify(attempt.body) ?? '');
    const claimed = this.repo.claimIdempotencyKey(
      accountId,
      key,
      requestHash,
      attempt.now,
      attempt.now - IDEMPOTENCY_RETENTION_MS,
    );
    if (!claimed) {
      const record = this.repo.findIdempotency(accountId, key);
      if (record && record.request_hash !== requestHash) return answerFor(new ApiError('idempotency_key_reused'));
      if (record?.state === 'completed' && record.response_status !== null && record.response_body !== null) {
        return {
          status: record.response_status,
          body: JSON.parse(record.response_body) as object,
          headers: { 'Idempotent-Replayed': 'true' },
        };
      }
      return answerFor(new ApiError('idempotency_request_in_progress', {}, { 'Retry-After': '1' }));
    }
    attempt.idempotencyClaimed = true;
    try {
      return await this.send(attempt, guards);
    } catch (error) {
      // Before the provider was called nothing was sent and the key is free again. After, it stays claimed
      // (409 to a retry) until the next start settles it from the message log: never a second send.
      if (!attempt.providerCalled) this.repo.releaseIdempotencyKey(accountId, key);
      throw error;
    }
  }

  /**
   * Settles the attempt's Idempotency-Key inside the transaction that records its outcome: a send that
   * happened (or may have) is remembered with its answer; a refusal frees the key for a corrected retry.
   */
  private settleIdempotencyKey(attempt: Attempt, remembered: Answer | undefined): void {
    if (!attempt.idempotencyClaimed || attempt.idempotencyKey === undefined) return;
    if (remembered) {
      this.repo.completeIdempotencyKey(attempt.account.id, attempt.idempotencyKey, remembered.status, JSON.stringify(remembered.body));
    } else {
      this.repo.releaseIdempotencyKey(attempt.account.id, attempt.idempotencyKey);
    }
  }

  /** Guards, then reservation, provider call and outcome. Every outcome is written to the message log. */
  async send(attempt: Attempt, guards: readonly Guard[]): Promise<Answer> {
    try {
      for (const guard of guards) guard(attempt);
    } catch (error) {
      if (error instanceof ApiError) return this.refuse(attempt, error);
      throw error;
    }
    const logId = await this.reserve(attempt);
    const request = attempt.request as SendRequest;
    const instance = attempt.instance as Instance;
    const provider = this.deps.providers[instance.provider];
    let messageId: string;
    try {
      if (!provider) throw new ProviderError(`no provider "${instance.provider}" is configured`);
      const target = { id: instance.id, name: instance.name };
      attempt.providerCalled = true;
      const result = request.media
        ? await provider.sendMedia(target, request.phone, request.media, request.text)
        : await provider.sendText(target, request.phone, request.text);
      messageId = result.messageId;
    } catch (error) {
      return this.failed(attempt, logId, error);
    }
    const finishedAt = this.deps.clock.now();
    const body: SendSuccess = { success: true, status: 'sent', message_id: messageId, log_id: logId };
    const answer: Answer = { status: 200, body, headers: {} };
    await this.writes.run(() => {
      this.repo.finishLogEntry(
        logId,
        { status: 'sent', errorCode: null, httpStatus: 200, providerMessageId: messageId },
        finishedAt,
      );
      this.settleIdempotencyKey(attempt, answer);
      this.deps.outbox.record(
        attempt.account.id,
        events.messageSent(
          { instanceId: instance.id, instanceName: instance.displayName, at: finishedAt },
          { to: request.phone, messageId, purpose: request.purpose },
        ),
      );
    });
    return answer;
  }

  /**
   * Takes the quota unit and velocity slots in memory, in the same synchronous turn as the guards that
   * checked them, then persists them with the open log entry before the provider is called.
   */
  private async reserve(attempt: Attempt): Promise<number> {
    const accountId = attempt.account.id;
    const periods = attempt.periods as PeriodKeys;
    const counted = [`d:${periods.day}`, `m:${periods.month}`];
    this.usageCounters.add(accountId, counted, 1);
    for (const slot of attempt.velocity ?? []) this.velocityState.set(slot.key, slot.tat);
    const entry = this.logEntry(attempt, 'sending', null, 202);
    const contentKey = `${accountId}|${attempt.contentHash}`;
    const phone = (attempt.request as SendRequest).phone;
    this.pendingContent.set(contentKey, [...(this.pendingContent.get(contentKey) ?? []), phone]);
    try {
      return await this.writes.run(() => {
        this.repo.addToUsage(accountId, counted, 1);
        return this.repo.insertLogEntry(entry);
      });
    } catch (error) {
      this.usageCounters.add(accountId, counted, -1);
      throw error;
    } finally {
      // Committed (or not): from here the message log answers for it.
      const phones = this.pendingContent.get(contentKey) ?? [];
      phones.splice(phones.indexOf(phone), 1);
      if (phones.length === 0) this.pendingContent.delete(contentKey);
    }
  }

  /**
   * The provider did not send. A definite refusal gives the quota unit back and frees the key for a retry;
   * an unknown outcome (a timeout after the request left) keeps both and is remembered as 502, so a
   * retry with the same key cannot send the message a second time.
   */
  private async failed(attempt: Attempt, logId: number, error: unknown): Promise<Answer> {
    const definite = error instanceof ProviderError && error.outcome === 'rejected';
    const refusal = new ApiError('gateway_send_failed', definite ? { log_id: logId } : { log_id: logId, outcome: 'unknown' });
    const reason = error instanceof Error ? error.message : String(error);
    this.deps.logger.warn({ logId, reason, definite }, 'provider send failed');
    const accountId = attempt.account.id;
    const periods = attempt.periods as PeriodKeys;
    const counted = [`d:${periods.day}`, `m:${periods.month}`];
    if (definite) this.usageCounters.add(accountId, counted, -1);
    const failedAt = this.deps.clock.now();
    const instance = attempt.instance as Instance;
    const request = attempt.request as SendRequest;
    const answer = answerFor(refusal);
    await this.writes.run(() => {
      if (definite) this.repo.addToUsage(accountId, counted, -1);
      this.repo.finishLogEntry(
        logId,
        {
          status: definite ? 'failed' : 'unknown',
          errorCode: refusal.code,
          httpStatus: refusal.status,
          providerMessageId: null,
          detail: reason,
        },
        failedAt,
      );
      this.settleIdempotencyKey(attempt, definite ? undefined : answer);
      this.deps.outbox.record(
        accountId,
        events.messageFailed(
          { instanceId: instance.id, instanceName: instance.displayName, at: failedAt },
          { to: request.phone, purpose: request.purpose, errorCode: refusal.code, errorMessage: refusal.message, logId },
        ),
      );
    });
    return answer;
  }

  private async refuse(attempt: Attempt, error: ApiError): Promise<Answer> {
    const entry = this.logEntry(attempt, 'blocked', error.code, error.status);
    await this.writes.run(() => {
      this.repo.insertLogEntry(entry);
      this.settleIdempotencyKey(attempt, undefined);
      if (error.code === 'policy_violation' && attempt.instance) this.pauseIfRepeated(attempt.instance, attempt.now);
    });
    return answerFor(error);
  }

  private pauseIfRepeated(instance: Instance, now: number): void {
    const since = Math.max(now - PAUSE_AFTER_VIOLATIONS.windowMs, (instance.reviewedAt ?? -1) + 1);
    const violations = this.repo.policyViolationsSince(instance.id, since);
    if (violations >= PAUSE_AFTER_VIOLATIONS.count && !instance.paused) {
      const minutes = PAUSE_AFTER_VIOLATIONS.windowMs / 60_000;
      this.deps.instances.pause(instance.id, `${violations} policy violations within ${minutes} minutes`);
      this.deps.logger.warn({ instanceId: instance.id, violations }, 'instance paused for responsible messaging review');
    }
  }

  private logEntry(attempt: Attempt, status: 'blocked' | 'sending', errorCode: string | null, httpStatus: number) {
    const request = attempt.request;
    const body = attempt.body;
    const text = request?.text ?? (typeof body?.message === 'string' ? body.message : null);
    return {
      account_id: attempt.account.id,
      api_key_id: attempt.apiKeyId,
      source: attempt.source,
      instance_id: attempt.instance?.id ?? null,
      instance_ref: request?.instanceRef ?? (typeof body?.instance_id === 'string' ? body.instance_id.slice(0, 128) : null),
      phone: request?.phone ?? (typeof body?.phone === 'string' ? body.phone.slice(0, 40) : null),
      message_purpose:
        attempt.purpose ?? (typeof body?.message_purpose === 'string' ? body.message_purpose.slice(0, 64) : null),
      message_type: request ? (request.media?.type ?? 'text') : null,
      message_text: text === null ? null : text.slice(0, 4096),
      content_hash: attempt.contentHash ?? null,
      status,
      error_code: errorCode,
      http_status: httpStatus,
      risk_score: attempt.policy?.riskScore ?? null,
      provider_message_id: null,
      idempotency_key: attempt.idempotencyKey ?? null,
      created_at: attempt.now,
    };
  }

  // ---- provider reports -----------------------------------------------------------------------------------

  /**
   * Moves a sent message's status forward on a provider report (delivered, read) and returns its log entry,
   * or undefined when the message is unknown or the report is not news. Runs in the caller's transaction.
   */
  applyProviderStatus(instanceId: string, providerMessageId: string, status: string, at: number): MessageLogRow | undefined {
    const entry = this.repo.findByProviderMessageId(instanceId, providerMessageId);
    if (!entry) return undefined;
    const next = STATUS_RANK[status];
    const current = STATUS_RANK[entry.status];
    if (next === undefined || current === undefined || next <= current) return undefined;
    this.repo.setStatus(entry.id, status as MessageLogRow['status'], at, null);
    return entry;
  }

  // ---- reading the log -----------------------------------------------------------------------------------

  findMessage(accountId: number, logId: number): { entry: MessageLogRow; history: ReturnType<MessagingRepository['statusHistory']> } | undefined {
    const entry = this.repo.findLogEntry(logId);
    if (!entry || entry.account_id !== accountId) return undefined;
    return { entry, history: this.repo.statusHistory(logId) };
  }

  usage(account: Account): { day: string; month: string; today: number; thisMonth: number } {
    const periods = periodKeys(this.deps.clock.now(), account.timeZone);
    return {
      day: periods.day,
      month: periods.month,
      today: this.usageCounters.get(account.id, `d:${periods.day}`),
      thisMonth: this.usageCounters.get(account.id, `m:${periods.month}`),
    };
  }

  /**
   * At start-up, after a crash: sends that were with the provider are marked `unknown` (they may have gone
   * out), emit `message.failed`, and their Idempotency-Key answers 502 from then on. Keys a dead request
   * still held are settled from the log: a completed send is remembered as such, anything else is freed.
   * Either way a client's retry can never send a message twice.
   */
  recoverInterruptedSends(): number {
    const interrupted = this.repo.interruptedSends();
    const now = this.deps.clock.now();
    const detail = 'the gateway stopped while this send was with the provider; it may or may not have been delivered';
    this.repo.transaction(() => {
      for (const entry of interrupted) {
        this.repo.finishLogEntry(
          entry.id,
          { status: 'unknown', errorCode: 'gateway_send_failed', httpStatus: 502, providerMessageId: null, detail },
          now,
        );
        const refusal = new ApiError('gateway_send_failed', { log_id: entry.id, outcome: 'unknown', interrupted: true });
        if (entry.idempotency_key) {
          this.repo.completeIdempotencyKey(entry.account_id, entry.idempotency_key, 502, JSON.stringify(errorBody(refusal)));
        }
        const instance = entry.instance_id ? this.deps.instances.findById(entry.instance_id) : undefined;
        if (instance && entry.phone) {
          this.deps.outbox.record(
            entry.account_id,
            events.messageFailed(
              { instanceId: instance.id, instanceName: instance.displayName, at: now },
              { to: entry.phone, purpose: entry.message_purpose ?? '', errorCode: refusal.code, errorMessage: refusal.message, logId: entry.id },
            ),
          );
        }
      }
      for (const { account_id: accountId, key } of this.repo.abandonedIdempotencyKeys()) {
        const entry = this.repo.latestLogEntryForKey(accountId, key);
        if (entry && entry.provider_message_id && ['sent', 'delivered', 'read'].includes(entry.status)) {
          const body: SendSuccess = { success: true, status: 'sent', message_id: entry.provider_message_id, log_id: entry.id };
          this.repo.completeIdempotencyKey(accountId, key, 200, JSON.stringify(body));
        } else {
          this.repo.releaseIdempotencyKey(accountId, key);
        }
      }
      this.repo.purgeIdempotencyKeys(now - IDEMPOTENCY_RETENTION_MS);
    });
    return interrupted.length;
  }

  /**
   * Hourly upkeep: expired idempotency records, in-memory limiter state nobody will read again, and
   * message log entries older than `retainBefore` (when given).
   */
  housekeeping(retainBefore?: number): void {
    const now = this.deps.clock.now();
    this.repo.purgeIdempotencyKeys(now - IDEMPOTENCY_RETENTION_MS);
    if (retainBefore !== undefined) this.repo.pruneLogEntries(retainBefore);
    this.usageCounters.sweep(now);
    this.velocityState.sweep(now);
  }

  /** Commits whatever is queued; the server calls it once requests have drained, before closing the database. */
  flushWrites(): void {
    this.writes.flush();
  }
}
