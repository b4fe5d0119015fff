import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseWith } from '../http/validate';
import {
	ProviderError,
	type ConnectResult,
	type ConnectionState,
	type InboundEvent,
	type InboundRequest,
	type MediaPayload,
	type Provider,
	type ProviderInstance,
	type ProviderSendResult,
} from './types';

export interface SandboxOptions {
	/** Recipients (E.164) whose sends always fail: a reproducible way to see gateway_send_failed. */
	failNumbers?: Iterable<string>;
	/** Share of other sends that fail, 0 to 1, drawn from `random`. */
	failureRate?: number;
	random?: () => number;
}

export interface SandboxSend {
	messageId: string;
	instanceId: string;
	to: string;
	text: string;
	media: Omit<MediaPayload, 'base64'> | undefined;
}

/** A simulated inbound message: who writes, what, and optionally the provider id (repeat one to see deduplication). */
export const sandboxInboundSchema = z.object({
	instance: z.string().min(1, 'is required'),
	from: z.string().min(1, 'is required'),
	text: z.string().min(1, 'is required'),
	id: z.string().min(1).max(255).optional(),
});

/**
 * The embedded provider: no WhatsApp account, nothing leaves the machine. Sends succeed with generated
 * ids unless a failure is injected; instances are always connected. docs/development.md, "The sandbox provider".
 */
export class SandboxProvider implements Provider {
	readonly name = 'sandbox' as const;
	private readonly failNumbers: Set<string>;
	private readonly failureRate: number;
	private readonly random: () => number;
	private readonly listeners = new Set<(send: SandboxSend) => void>();

	constructor(options: SandboxOptions = {}) {
		this.failNumbers = new Set(options.failNumbers ?? []);
		this.failureRate = options.failureRate ?? 0;
		this.random = options.random ?? Math.random;
	}

	/** An id for a simulated inbound message (the CLI and the operator route use it when none is given). */
	static inboundMessageId(): string {
		return `sandbox-in.${randomUUID()}`;
	}

	/** Called for every accepted send; the delivery simulation and tests listen here. */
	onSend(listener: (send: SandboxSend) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	async sendText(instance: ProviderInstance, to: string, text: string): Promise<ProviderSendResult> {
		return this.accept(instance, to, text, undefined);
	}

	async sendMedia(
		instance: ProviderInstance,
		to: string,
		media: MediaPayload,
		caption: string,
	): Promise<ProviderSendResult> {
		const { base64: _content, ...described } = media;
		return this.accept(instance, to, caption, described);
	}

	async connect(): Promise<ConnectResult> {
		return { state: 'connected' };
	}

	async connectionState(): Promise<ConnectionState> {
		return 'connected';
	}

	/**
	 * Nothing outside sends the sandbox webhooks: its inbound messages are simulated by the operator, so a
	 * request is genuine exactly when it carries the operator token.
	 */
	verifyInbound(request: InboundRequest): boolean {
		return request.operator;
	}

	parseInbound(body: unknown): InboundEvent[] {
		const message = parseWith(sandboxInboundSchema, body);
		return [
			{
				kind: 'message',
				providerMessageId: message.id ?? SandboxProvider.inboundMessageId(),
				from: message.from,
				text: message.text,
			},
		];
	}

	private accept(
		instance: ProviderInstance,
		to: string,
		text: string,
		media: SandboxSend['media'],
	): ProviderSendResult {
		if (this.failNumbers.has(to)) {
			throw new ProviderError(`sandbox: ${to} is configured to fail (GATEWAY_SANDBOX_FAIL_NUMBERS)`);
		}
		if (this.failureRate > 0 && this.random() < this.failureRate) {
			throw new ProviderError('sandbox: injected failure (GATEWAY_SANDBOX_FAILURE_RATE)');
		}
		const messageId = `sandbox.${randomUUID()}`;
		const send: SandboxSend = { messageId, instanceId: instance.id, to, text, media };
		for (const listener of this.listeners) listener(send);
		return { messageId };
	}
}
