import type { Clock } from '../clock';
import { events } from '../events/catalog';
import type { EventOutbox } from '../events/outbox';
import { ApiError, errorBody } from '../http/errors';
import type { InstanceService } from '../instances/service';
import type { IdempotencyKeys } from './idempotency';
import type { MessagingRepository } from './repository';
import type { SendSuccess } from './send-service';

const INTERRUPTED_DETAIL =
	'the gateway stopped while this send was with the provider; it may or may not have been delivered';

/**
 * At start-up, after a crash: sends that were with the provider are marked `unknown` (they may have gone
 * out), emit `message.failed`, and their Idempotency-Key answers 502 from then on. Keys a dead request
 * still held are settled from the log: a completed send is remembered as such, anything else is freed.
 * Either way a client's retry can never send a message twice. Returns how many sends were interrupted.
 */
export function recoverInterruptedSends(deps: {
	clock: Clock;
	repo: MessagingRepository;
	idempotency: IdempotencyKeys;
	instances: Pick<InstanceService, 'findById'>;
	outbox: EventOutbox;
}): number {
	const { repo, outbox } = deps;
	const interrupted = repo.interruptedSends();
	const now = deps.clock.now();
	repo.transaction(() => {
		for (const entry of interrupted) {
			repo.finishLogEntry(
				entry.id,
				{
					status: 'unknown',
					errorCode: 'gateway_send_failed',
					httpStatus: 502,
					providerMessageId: null,
					detail: INTERRUPTED_DETAIL,
				},
				now,
			);
			const refusal = new ApiError('gateway_send_failed', {
				log_id: entry.account_seq,
				outcome: 'unknown',
				interrupted: true,
			});
			if (entry.idempotency_key) {
				deps.idempotency.settle(
					{ accountId: entry.account_id, key: entry.idempotency_key },
					{ status: 502, body: errorBody(refusal) },
				);
			}
			const instance = entry.instance_id ? deps.instances.findById(entry.instance_id) : undefined;
			if (instance && entry.phone) {
				outbox.record(
					entry.account_id,
					events.messageFailed(
						{ instanceId: instance.id, instanceName: instance.displayName, at: now },
						{
							to: entry.phone,
							purpose: entry.message_purpose ?? '',
							errorCode: refusal.code,
							errorMessage: refusal.message,
							logId: entry.account_seq,
						},
					),
				);
			}
		}
		for (const { account_id: accountId, key } of repo.abandonedIdempotencyKeys()) {
			const entry = repo.latestLogEntryForKey(accountId, key);
			const held = { accountId, key };
			if (entry && entry.provider_message_id && ['sent', 'delivered', 'read'].includes(entry.status)) {
				const body: SendSuccess = {
					success: true,
					status: 'sent',
					message_id: entry.provider_message_id,
					log_id: entry.account_seq,
				};
				deps.idempotency.settle(held, { status: 200, body });
			} else {
				deps.idempotency.settle(held, undefined);
			}
		}
		deps.idempotency.purge(now);
	});
	return interrupted.length;
}
