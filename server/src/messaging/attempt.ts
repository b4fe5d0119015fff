import type { Account } from '../accounts/service';
import type { PeriodKeys } from '../accounts/time';
import type { Instance } from '../instances/service';
import type { PolicyVerdict } from './policy';
import type { MessagePurpose, SendRequest } from './request';

/**
 * What the caller asked for, as far as it can be told before validation, bounded in size: the message log
 * keeps it for attempts refused before their request was parsed.
 */
export interface Asked {
	instanceRef: string | null;
	phone: string | null;
	purpose: string | null;
	text: string | null;
}

/** Stage 0: an authenticated attempt to send. Each later stage adds what its guards established. */
export interface Attempt {
	now: number;
	account: Account;
	apiKeyId: number | null;
	/** Who asked: `api`, `3cx`, … (the message log's source). */
	source: string;
	idempotencyKey: string | undefined;
	asked: Asked;
}

/** A velocity limiter slot the send will take: the limiter key and its new theoretical arrival time. */
export interface VelocitySlot {
	key: string;
	tat: number;
}

/** Everything the stages can add, in order: parsed → resolved → checked against the limits. */
export interface StageFields {
	purpose: MessagePurpose;
	request: SendRequest;
	contentHash: string;
	instance: Instance;
	periods: PeriodKeys;
	velocity: VelocitySlot[];
	policy: PolicyVerdict;
}

/** Stage 1: the request is valid (purpose, phone, text or media). */
export interface ParsedAttempt extends Attempt {
	request: SendRequest;
	contentHash: string;
}

/** Stage 2: the instance it goes through is known. */
export interface ResolvedAttempt extends ParsedAttempt {
	instance: Instance;
}

/** Stage 3: every guard passed; what the limits will take is computed, ready to be reserved. */
export interface CheckedAttempt extends ResolvedAttempt {
	periods: PeriodKeys;
	velocity: VelocitySlot[];
	policy: PolicyVerdict;
}

/** How far an attempt got: the message log writes a refusal from this. */
export type Reached = Attempt & Partial<StageFields>;
