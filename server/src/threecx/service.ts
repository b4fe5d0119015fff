import type { Clock } from '../clock';
import { sha256 } from '../common/hash';
import { ApiError } from '../http/errors';
import type { Logger } from '../logger';
import type { Messaging } from '../messaging';
import type { Account } from '../accounts/service';
import { requireModule } from '../messaging/guards';
import { parseThreecxEvent, type ThreecxEvent } from './event';
import { threecxEventGuards, threecxSendGuards, type ParsedThreecxAttempt, type ThreecxAttempt } from './guards';
import type { Integration } from './integrations';
import type { EventLogRow, ThreecxRepository } from './repository';
import { isTemplateEvent } from './templates';

/** Seed 002: "15-minute cooldown per integration, event type, and destination phone." */
export const COOLDOWN_MS = 15 * 60_000;

/** What the endpoint answers: seed 001's ThreeCxWebhookResponse, plus what happened in detail. */
export interface ThreecxAnswer {
	status: number;
	body: object;
	replayed: boolean;
}

type Outcome = Pick<EventLogRow, 'status' | 'action'> & Partial<Pick<EventLogRow, 'reason' | 'error_code' | 'log_id'>>;

/** `action` per event that sends nothing: the Test button is `received`, the rest are logged. */
const ACKNOWLEDGED: Record<string, string> = {
	test: 'received',
	inbound_reply: 'logged',
	call_started: 'logged',
	queue_event: 'logged',
};

export interface ThreecxServiceDeps {
	clock: Clock;
	logger: Logger;
	repo: ThreecxRepository;
	messaging: Pick<Messaging, 'sends' | 'pipeline'>;
	lastInboundAt: (instanceId: string, phone: string) => number | undefined;
}

/**
 * What an authenticated 3CX event does. Events that send (outbound_message and the five template
 * events) go through the 3CX guards, then the shared send pipeline with source `3cx`, once per
 * `external_message_id`; the others are acknowledged. Every event is written to the 3CX event log.
 */
export class ThreecxService {
	private readonly eventGuards;
	private readonly sendGuards;
	/** Template sends between their cooldown check and their recorded outcome (concurrent duplicates). */
	private readonly coolingDown = new Set<string>();
	/** The event ids (idempotency keys) being sent now, before their claim may be committed. */
	private readonly eventsInFlight = new Set<string>();

	constructor(private readonly deps: ThreecxServiceDeps) {
		this.eventGuards = threecxEventGuards(deps.messaging.pipeline);
		this.sendGuards = threecxSendGuards(deps.messaging.pipeline, deps.lastInboundAt);
	}

	async handle(integration: Integration, account: Account, body: Record<string, unknown>): Promise<ThreecxAnswer> {
		const now = this.deps.clock.now();
		const given = typeof body.event_type === 'string' ? body.event_type.slice(0, 32) : 'unknown';
		let event: ThreecxEvent;
		try {
			// Seed 002's order: the module before anything about the event.
			requireModule('threecx')({ account });
			event = parseThreecxEvent(body, { defaultCountry: account.defaultCountry, timeZone: account.timeZone });
		} catch (error) {
			if (error instanceof ApiError)
				this.insertLogRow(integration.id, given, now, { status: 'refused', action: 'none', error_code: error.code });
			throw error;
		}
		const attempt: ThreecxAttempt = {
			now,
			account,
			apiKeyId: null,
			source: '3cx',
			// Per integration; the space keeps it apart from any Idempotency-Key an API caller can send.
			idempotencyKey:
				event.externalMessageId === undefined ? undefined : `3cx ${integration.id} ${event.externalMessageId}`,
			asked: {
				instanceRef: integration.instanceId,
				phone: event.phone ?? event.phoneGiven ?? null,
				purpose: event.purpose ?? null,
				text: event.text?.slice(0, 4096) ?? null,
			},
			integration,
			event,
		};
		if (event.type !== 'outbound_message' && !isTemplateEvent(event.type)) return this.acknowledge(attempt);
		return this.send(attempt);
	}

	/** test, inbound_reply, call_started, queue_event: acknowledged and logged, nothing is sent. */
	private acknowledge(attempt: ThreecxAttempt): ThreecxAnswer {
		const { event } = attempt;
		const action = ACKNOWLEDGED[event.type];
		this.record(attempt, { status: 'processed', action });
		return { status: 200, body: this.answer(event, 'processed', action, {}), replayed: false };
	}

	private async send(attempt: ThreecxAttempt): Promise<ThreecxAnswer> {
		const { event, integration } = attempt;
		const sends = this.deps.messaging.sends;
		const checked = this.eventGuards.run(attempt);
		if ('refused' in checked) {
			this.record(attempt, { status: 'refused', action: 'none', error_code: checked.refused.code });
			return sends.refuse(checked.reached, checked.refused);
		}
		const parsed = checked.passed;
		// A repeated event id (3CX posting the same event again) goes to the send path, which answers the first
		// answer again (or 409 while the first is still being sent), even inside the cooldown the first send
		// started or after its template was switched off; it starts no cooldown of its own.
		const eventKey = attempt.idempotencyKey;
		const repeated =
			eventKey !== undefined &&
			(this.eventsInFlight.has(eventKey) || sends.keyTaken(parsed.account.id, eventKey, parsed.now));
		const skipped = repeated ? undefined : this.skipReason(parsed);
		if (skipped) {
			this.record(attempt, { status: 'skipped', action: 'none', reason: skipped.reason });
			return { status: 200, body: this.answer(event, 'skipped', 'none', skipped), replayed: false };
		}
		const cooldownKey =
			isTemplateEvent(event.type) && !repeated ? `${integration.id}|${event.type}|${parsed.request.phone}` : undefined;
		if (cooldownKey) this.coolingDown.add(cooldownKey);
		const inFlight = eventKey !== undefined && !repeated ? eventKey : undefined;
		if (inFlight) this.eventsInFlight.add(inFlight);
		try {
			// The request hash is the event's id alone: a replay answers the first answer, whatever else changed.
			const answer = await sends.send(parsed, this.sendGuards, () => sha256(attempt.idempotencyKey ?? ''));
			if (answer.status !== 200) {
				this.record(attempt, {
					status: 'refused',
					action: 'replayed',
					error_code: (answer.body as { error?: string }).error ?? null,
				});
				return answer;
			}
			const sent = answer.body as { message_id: string; log_id: number };
			this.record(
				attempt,
				{ status: 'processed', action: answer.replayed ? 'replayed' : 'sent', log_id: sent.log_id },
				parsed,
			);
			const extra = {
				message_id: sent.message_id,
				log_id: sent.log_id,
				...(answer.replayed ? { replayed: true } : {}),
			};
			return { status: 200, body: this.answer(event, 'processed', 'sent', extra), replayed: answer.replayed };
		} catch (error) {
			if (error instanceof ApiError) {
				// A provider timeout may have sent the message: it counts for the cooldown like a sent one.
				const maybeSent = error.code === 'gateway_send_failed' && error.details.outcome === 'unknown';
				this.record(
					attempt,
					{
						status: 'refused',
						action: maybeSent ? 'sent' : 'none',
						error_code: error.code,
						reason: maybeSent ? 'outcome_unknown' : null,
					},
					parsed,
				);
			}
			throw error;
		} finally {
			if (cooldownKey) this.coolingDown.delete(cooldownKey);
			if (inFlight) this.eventsInFlight.delete(inFlight);
		}
	}

	/** A template that is switched off, or one sent to this phone for this event within the last 15 minutes. */
	private skipReason({
		event,
		integration,
		request,
		now,
	}: ParsedThreecxAttempt): { reason: string; cooldown_until?: string } | undefined {
		if (!isTemplateEvent(event.type)) return undefined;
		if (!integration.templates[event.type].enabled) return { reason: 'template_disabled' };
		const key = `${integration.id}|${event.type}|${request.phone}`;
		const last = this.deps.repo.lastTemplateSent(integration.id, event.type, request.phone);
		if (this.coolingDown.has(key) || (last !== undefined && now - last < COOLDOWN_MS)) {
			const until = (last ?? now) + COOLDOWN_MS;
			return { reason: 'cooldown', cooldown_until: new Date(until).toISOString() };
		}
		return undefined;
	}

	private answer(
		event: ThreecxEvent,
		status: 'processed' | 'skipped',
		action: string,
		extra: Record<string, unknown>,
	): object {
		return {
			success: true,
			status,
			event_type: event.type,
			action,
			...extra,
			...(event.outcome ? { outcome: event.outcome } : {}),
			...(event.phone ? { customer_phone: event.phone } : {}),
			...(event.externalMessageId ? { external_message_id: event.externalMessageId } : {}),
		};
	}

	/** The 3CX event log: what came in and what became of it. */
	private record({ integration, event, now }: ThreecxAttempt, outcome: Outcome, parsed?: ParsedThreecxAttempt): void {
		this.insertLogRow(integration.id, event.type, now, outcome, event, parsed?.request.phone ?? event.phone);
	}

	private insertLogRow(
		integrationId: number,
		eventType: string,
		now: number,
		outcome: Outcome,
		event?: ThreecxEvent,
		phone?: string,
	): void {
		try {
			this.deps.repo.insertEvent({
				integration_id: integrationId,
				event_type: eventType,
				phone: phone ?? null,
				external_message_id: event?.externalMessageId ?? null,
				conversation_id: event?.conversationId ?? null,
				agent_extension: event?.agentExtension ?? null,
				queue: event?.queue ?? null,
				call_time: event?.callTime?.given ?? null,
				duration_seconds: event?.durationSeconds ?? null,
				status: outcome.status,
				action: outcome.action,
				reason: outcome.reason ?? null,
				error_code: outcome.error_code ?? null,
				log_id: outcome.log_id ?? null,
				created_at: now,
			});
		} catch (error) {
			this.deps.logger.error({ err: error, integrationId }, 'recording a 3CX event failed');
		}
	}

	recentEvents(integrationId: number, limit = 50): EventLogRow[] {
		return this.deps.repo.recentEvents(integrationId, limit);
	}

	/** Requests refused with 429 webhook_rate_limited in the last hour and day, and when the last one was. */
	rateLimited(integrationId: number): { lastHour: number; lastDay: number; lastAt: number | null } {
		return this.deps.repo.rateLimited(integrationId, this.deps.clock.now());
	}
}
