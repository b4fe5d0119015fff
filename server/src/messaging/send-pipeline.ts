import type { Account } from '../accounts/service';
import type { Instance } from '../instances/service';
import type { Attempt, ParsedAttempt } from './attempt';
import {
	refuseBlockedContent,
	requireActiveInstance,
	requireActivePlan,
	requireConnectedInstance,
	requireModule,
	type SharedGuards,
} from './guards';
import { GuardList } from './pipeline';

/** A check of the caller's own that needs the instance: 3CX's conversation window. */
export type InstanceStep<T extends ParsedAttempt> = (attempt: T & { instance: Instance }) => void;

/**
 * The send-check order, defined once (docs/architecture.md, "The send pipeline"). Every caller that sends
 * (the API, the dashboard's test sends, 3CX) composes these two halves around its own reading of what to
 * send, and adds a step of its own only where the pipeline leaves room for one:
 *
 *   admission   4 the caller's module is on · 5 the account has an active plan
 *   the caller  6–7 what to send: the API parses the purpose and the fields; 3CX reads the event and renders its text
 *   delivery    8 the instance exists · 9 it is not paused · 9a it is connected · 9b it can send a requested template
 *               · the caller's instance step (3CX: the conversation window) · 10 the recipient is not suppressed
 *               · 11 plan quota · 12 velocity (the provider's pace included) · 13 content policy
 *
 * A caller cannot leave a shared step out or reorder it: it only chooses its module and its instance step.
 */
export function sendPipeline(shared: SharedGuards) {
	const admission = <T extends Attempt>(module: keyof Account['modules']) =>
		GuardList.start<T>().check(requireModule(module)).check(requireActivePlan);

	const delivery = <T extends ParsedAttempt>(instanceStep?: InstanceStep<T>) =>
		GuardList.start<T>()
			.then(shared.resolveInstance)
			.check(requireActiveInstance)
			.check(requireConnectedInstance)
			.check(shared.requireTemplateSupport)
			.check((attempt) => instanceStep?.(attempt))
			.check(shared.requireNotSuppressed)
			.then(shared.enforceQuota)
			.then(shared.enforceVelocity)
			.then(shared.scoreContentPolicy)
			.check(refuseBlockedContent);

	return { admission, delivery };
}

export type SendPipeline = ReturnType<typeof sendPipeline>;
