import { InvalidArgumentError, Option } from '@commander-js/extra-typings';
import type { Config } from '../config';
import type { Gateway } from '../gateway';

/** What every command needs: the configuration, a gateway on the configured database, and output. */
export interface CliContext {
	getConfig: () => Config;
	/** Opens the gateway's database for one command and closes it after. */
	withGateway: <T>(fn: (gateway: Gateway) => T | Promise<T>) => Promise<T>;
	/** With --json one JSON document, otherwise the human text. */
	emit: (json: boolean | undefined, data: unknown, human: string) => void;
	/** Progress for a person while a command runs (a QR code to scan): stdout, or stderr under --json. */
	progress: (json: boolean | undefined, text: string) => void;
	/** Waits (the CLI's polling); tests of the CLI run it for real with short intervals. */
	sleep: (ms: number) => Promise<void>;
}

export function wholeNumber(value: string): number {
	if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
	return Number(value);
}

/** "plan" goes back to the plan's value (commander turns a parser's null into '', so it is kept as text). */
export type OrPlan<T> = T | 'plan';

export function numberOrPlan(value: string): OrPlan<number> {
	return value === 'plan' ? 'plan' : wholeNumber(value);
}

/** "on", "off", or "plan" to follow the plan's module setting. */
export function onOffPlan(value: string): OrPlan<boolean> {
	if (value === 'on') return true;
	if (value === 'off') return false;
	if (value === 'plan') return 'plan';
	throw new InvalidArgumentError('must be on, off or plan');
}

/** undefined: not given; null: back to the plan's value. */
export function planValue<T>(value: OrPlan<T> | undefined): T | null | undefined {
	return value === 'plan' ? null : value;
}

/** What a command definition parses its flags to, as `.opts()` and its action see them. */
export type FlagsOf<C extends { opts(): unknown }> = ReturnType<C['opts']>;

/** No flags (commander's `{}`): a shared option set applied to it gives the flags of that set alone. */
export type NoFlags = Record<never, never>;

export const jsonOption = () => new Option('--json', 'print one JSON document and nothing else');
