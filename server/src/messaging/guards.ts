import type { Account } from '../accounts/service';
import { periodKeys } from '../accounts/time';
import { ApiError, ERROR_TABLE } from '../http/errors';
import type { Instance, InstanceService } from '../instances/service';
import type { SuppressionService } from '../suppressions/service';
import type { Attempt, ParsedAttempt, ResolvedAttempt, VelocitySlot } from './attempt';
import type { UsageCounters, VelocityState } from './limits';
import { BLOCK_THRESHOLD, inspectContent, POLICY_RULES, scoreContent, type PolicyVerdict } from './policy';
import type { MessagingRepository } from './repository';
import { providerPaceKey } from './reservation';
import { gcra, perMinute, providerPace, type GcraLimit } from './velocity';

/**
 * The send guards every caller shares (docs/architecture.md, "The send pipeline": steps 4–13, less the
 * API's own parsing in api-guards.ts). Each one checks one thing: it passes by returning (a step also
 * returns the attempt at its next stage) and refuses by throwing an ApiError with the seed's code.
 */

const MODULE_CODES = { apiAccess: 'api_access', threecx: 'threecx' } as const;
/** module_not_enabled's text names the module that is off (the table's text is the API's; seed 002 names 3CX's). */
const MODULE_OFF_MESSAGES = {
	apiAccess: ERROR_TABLE.module_not_enabled.message,
	threecx: 'The 3CX middleware is not enabled for this account.',
} as const;

export const retryAfterSeconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

export const requireModule =
	(module: keyof Account['modules']) =>
	({ account }: Pick<Attempt, 'account'>): void => {
		if (!account.modules[module])
			throw new ApiError('module_not_enabled', { module: MODULE_CODES[module] }, {}, MODULE_OFF_MESSAGES[module]);
	};

export const requireActivePlan = ({ account }: Attempt): void => {
	if (!account.planActive) throw new ApiError('active_plan_required', { plan: account.plan.name });
};

export const requireActiveInstance = ({ instance }: ResolvedAttempt): void => {
	if (instance.paused) {
		throw new ApiError('instance_paused_for_review', { instance_id: instance.id, reason: instance.pausedReason });
	}
};

/** Step 9a (ours): a real provider's instance sends only once it is connected; nothing reaches the provider before. */
export const requireConnectedInstance = ({ instance }: ResolvedAttempt): void => {
	if (instance.connectionState !== 'connected') {
		throw new ApiError('instance_not_connected', {
			instance_id: instance.id,
			provider: instance.provider,
			connection_state: instance.connectionState,
		});
	}
};

export const refuseBlockedContent = ({ policy }: { policy: PolicyVerdict }): void => {
	if (policy.blocked) {
		throw new ApiError('policy_violation', {
			action: 'block',
			risk_score: policy.riskScore,
			threshold: BLOCK_THRESHOLD,
			reasons: policy.reasons,
		});
	}
};

export interface GuardState {
	instances: Pick<InstanceService, 'findForAccount'>;
	suppressions: Pick<SuppressionService, 'find'>;
	repo: MessagingRepository;
	usage: UsageCounters;
	velocity: VelocityState;
	/** What the instance's provider can do: its pace (sends per minute, none when undefined) and templates. */
	providerLimits: {
		pacePerMinute(instance: Instance): number | undefined;
		canSendTemplates(provider: string): boolean;
	};
}

/** The guards that read the gateway's state, bound to it. */
export function sharedGuards(state: GuardState) {
	const resolveInstance = <T extends ParsedAttempt>(attempt: T): T & { instance: Instance } => {
		const ref = attempt.request.instanceRef;
		const instance = state.instances.findForAccount(attempt.account.id, ref);
		if (!instance) throw new ApiError('invalid_instance', { instance_id: ref });
		return { ...attempt, instance };
	};

	const requireNotSuppressed = ({ account, request }: ParsedAttempt): void => {
		const suppression = state.suppressions.find(account.id, request.phone);
		if (suppression)
			throw new ApiError('recipient_suppressed', { phone: suppression.phone, source: suppression.source });
	};

	const enforceQuota = <T extends ResolvedAttempt>(attempt: T): T & { periods: ReturnType<typeof periodKeys> } => {
		const { account, now } = attempt;
		const periods = periodKeys(now, account.timeZone);
		const usedToday = state.usage.get(account.id, `d:${periods.day}`);
		if (usedToday >= account.limits.daily) {
			throw new ApiError(
				'daily_message_limit_exceeded',
				{ action: 'block', risk_score: 90, limit: account.limits.daily, used: usedToday },
				{ 'Retry-After': retryAfterSeconds(periods.msUntilDayEnd) },
			);
		}
		const usedThisMonth = state.usage.get(account.id, `m:${periods.month}`);
		if (usedThisMonth >= account.limits.monthly) {
			throw new ApiError(
				'monthly_message_limit_exceeded',
				{ action: 'block', risk_score: 90, limit: account.limits.monthly, used: usedThisMonth },
				{ 'Retry-After': retryAfterSeconds(periods.msUntilMonthEnd) },
			);
		}
		return { ...attempt, periods };
	};

	const enforceVelocity = <T extends ResolvedAttempt>(attempt: T): T & { velocity: VelocitySlot[] } => {
		const { account, instance, request, now } = attempt;
		const limiters: { scope: string; key: string; perMinuteRate: number; limit: GcraLimit }[] = [
			{ scope: 'instance', key: `i:${instance.id}`, perMinuteRate: account.velocity.instancePerMinute },
			{
				scope: 'recipient',
				key: `r:${account.id}:${request.phone}`,
				perMinuteRate: account.velocity.recipientPerMinute,
			},
		].map((limiter) => ({ ...limiter, limit: perMinute(limiter.perMinuteRate) }));
		// The provider's pace for this instance (a ban costs more than a 429): docs/connect-whatsapp.md,
		// "What changes when you send".
		const pace = state.providerLimits.pacePerMinute(instance);
		if (pace !== undefined)
			limiters.push({
				scope: 'provider',
				key: providerPaceKey(instance.id),
				perMinuteRate: pace,
				limit: providerPace(pace),
			});
		const velocity = limiters.map((limiter): VelocitySlot => {
			const decision = gcra(state.velocity.get(limiter.key), now, limiter.limit);
			if (!decision.allowed) {
				throw new ApiError(
					'sending_throttled',
					{
						action: 'throttle',
						risk_score: 60,
						scope: limiter.scope,
						limit: limiter.perMinuteRate,
						used: decision.counted,
						burst: limiter.limit.burst + 1,
						window_seconds: 60,
						retry_after_seconds: Math.ceil(decision.retryAfterMs / 1000),
					},
					{ 'Retry-After': retryAfterSeconds(decision.retryAfterMs) },
				);
			}
			return { key: limiter.key, tat: decision.newTat };
		});
		return { ...attempt, velocity };
	};

	/** Scores the content (refuseBlockedContent then refuses a blocked verdict, so the log keeps the score). */
	const scoreContentPolicy = <T extends ParsedAttempt>(attempt: T): T & { policy: PolicyVerdict } => {
		const { account, request, contentHash, now } = attempt;
		const history = state.repo.contentHistory({
			accountId: account.id,
			hash: contentHash,
			phone: request.phone,
			bulkSince: now - POLICY_RULES.bulk_identical_content.windowMs,
			repeatSince: now - POLICY_RULES.repeated_identical_content.windowMs,
		});
		const policy = scoreContent(inspectContent(request.text), {
			otherRecipientsWithSameContent: history.otherRecipients,
			repeatsToRecipient: history.repeats,
		});
		return { ...attempt, policy };
	};

	/** Step 9b (ours): a template message needs a provider that can send templates (the Cloud API). */
	const requireTemplateSupport = ({ instance, request }: ResolvedAttempt): void => {
		if (request.template && !state.providerLimits.canSendTemplates(instance.provider)) {
			throw new ApiError('template_not_supported', { provider: instance.provider, instance_id: instance.id });
		}
	};

	return {
		resolveInstance,
		requireNotSuppressed,
		enforceQuota,
		enforceVelocity,
		scoreContentPolicy,
		requireTemplateSupport,
	};
}

export type SharedGuards = ReturnType<typeof sharedGuards>;
