import http from 'node:http';
import https from 'node:https';
import type { AxiosInstance, AxiosRequestConfig } from 'axios';
import { ProviderError } from './types';

/** A provider's answer: its HTTP status and parsed body, whatever the status. */
export interface ProviderAnswer {
	status: number;
	body: unknown;
	headers: Record<string, string | undefined>;
}

export interface ProviderHttpOptions {
	/** Per attempt: a send that gets no answer in this time has an unknown outcome (never retried). */
	timeoutMs: number;
	/** Sockets kept per provider host (keep-alive). */
	maxSockets?: number;
}

/** Errors that prove the request never reached the provider: the send certainly did not happen. */
const NOT_SENT_CODES = new Set([
	'ECONNREFUSED',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'ERR_INVALID_URL',
	'ERR_BAD_OPTION_VALUE',
]);

type AxiosModule = typeof import('axios');
let axiosLoading: Promise<AxiosModule> | undefined;

/**
 * axios is loaded by the first request to a provider, not at start: a gateway that sends through the sandbox
 * alone never holds its modules (3 MB of heap and 6 MB of RSS at start, measured).
 */
const loadAxios = () => (axiosLoading ??= import('axios'));

/**
 * One keep-alive HTTP client per provider (axios over pooled agents). Every answer comes back as
 * {status, body}, so each provider maps its own error shapes; a transport failure becomes a ProviderError:
 * `rejected` when the request provably never left, `unknown` otherwise (a timeout, a reset mid-answer).
 */
export class ProviderHttp {
	private client: { instance: AxiosInstance; isAxiosError: AxiosModule['isAxiosError'] } | undefined;
	private readonly agents: { http: http.Agent; https: https.Agent };

	constructor(
		readonly providerName: string,
		private readonly options: ProviderHttpOptions,
	) {
		const maxSockets = options.maxSockets ?? 256;
		this.agents = {
			http: new http.Agent({ keepAlive: true, maxSockets }),
			https: new https.Agent({ keepAlive: true, maxSockets }),
		};
	}

	private async connect(): Promise<NonNullable<ProviderHttp['client']>> {
		if (this.client) return this.client;
		const { default: axios, isAxiosError } = await loadAxios();
		this.client ??= {
			isAxiosError,
			instance: axios.create({
				timeout: this.options.timeoutMs,
				httpAgent: this.agents.http,
				httpsAgent: this.agents.https,
				maxRedirects: 0,
				// Every status is an answer; the provider decides what it means.
				validateStatus: () => true,
				maxContentLength: 1024 * 1024,
				maxBodyLength: 64 * 1024 * 1024,
				transitional: { clarifyTimeoutError: true },
			}),
		};
		return this.client;
	}

	async request(config: AxiosRequestConfig): Promise<ProviderAnswer> {
		const client = await this.connect();
		try {
			const answer = await client.instance.request({ responseType: 'json', ...config });
			const headers: Record<string, string | undefined> = {};
			for (const [name, value] of Object.entries(answer.headers))
				headers[name.toLowerCase()] = value === undefined ? undefined : String(value);
			return { status: answer.status, body: answer.data as unknown, headers };
		} catch (error) {
			throw this.transportError(error, client.isAxiosError);
		}
	}

	/** Closes the pooled connections (a CLI command or a stopping gateway must not wait for them). */
	close(): void {
		this.agents.http.destroy();
		this.agents.https.destroy();
	}

	private transportError(error: unknown, isAxiosError: AxiosModule['isAxiosError']): ProviderError {
		const code = isAxiosError(error) ? error.code : undefined;
		const text = error instanceof Error ? error.message : 'request failed';
		if (code && NOT_SENT_CODES.has(code)) {
			return new ProviderError(`${this.providerName}: ${text}`, 'rejected', undefined, 'provider_unavailable');
		}
		if (code === 'ETIMEDOUT' || code === 'ECONNABORTED') {
			return new ProviderError(
				`${this.providerName}: no answer in time (${text})`,
				'unknown',
				undefined,
				'provider_timeout',
			);
		}
		return new ProviderError(`${this.providerName}: ${text}`, 'unknown', undefined, 'provider_unavailable');
	}
}
