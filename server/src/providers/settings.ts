import { randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { InputError } from '../input-error';
import { isWebhookProvider, type WebhookProviderName } from './defaults';
import type { ProviderSettings } from './types';

/** An http(s) base URL without a trailing slash. */
export const baseUrlSetting = z
	.url({ protocol: /^https?$/, message: 'must be an http or https URL' })
	.transform((value) => value.replace(/\/+$/, ''));

/** Sends per minute a provider allows one instance (the velocity step's provider pace). */
export const paceSetting = z.coerce
	.number({ message: 'must be a whole number' })
	.int('must be a whole number')
	.min(1, 'must be at least 1')
	.max(60_000, 'must be at most 60000');

/** A secret the gateway generates for a provider to send back (a webhook token, a verify token). */
export function generatedSecret(): string {
	return randomBytes(24).toString('base64url');
}

/**
 * Validates the merged settings with a provider's schema; a failure names each setting and why (never the
 * value: it may be a secret).
 */
export function parseProviderSettings<Schema extends z.ZodType<ProviderSettings>>(
	provider: string,
	schema: Schema,
	merged: ProviderSettings,
): z.infer<Schema> {
	const parsed = schema.safeParse(merged);
	if (parsed.success) return parsed.data;
	const fields: Record<string, string> = {};
	for (const issue of parsed.error.issues) {
		const name = issue.path.join('.') || 'settings';
		if (issue.code === 'unrecognized_keys') {
			for (const key of issue.keys)
				fields[key] = `is not ${/^[aeiou]/i.test(provider) ? 'an' : 'a'} ${provider} setting`;
			continue;
		}
		fields[name] ??= issue.code === 'invalid_type' && merged[name] === undefined ? 'is required' : issue.message;
	}
	const summary = Object.entries(fields)
		.map(([name, reason]) => `${name} ${reason}`)
		.join('; ');
	throw new InputError(`${provider} settings: ${summary}`, fields);
}

/** Constant-time comparison of a presented secret with the expected one. */
export function sameSecret(presented: string | undefined, expected: string | undefined): boolean {
	if (!presented || !expected) return false;
	const a = Buffer.from(presented);
	const b = Buffer.from(expected);
	return a.length === b.length && timingSafeEqual(a, b);
}

/** The one value of a header (the first when repeated). */
export function headerValue(value: string | string[] | undefined): string | undefined {
	return Array.isArray(value) ? value[0] : value;
}

/** Where a provider posts an instance's webhooks: `<public URL>/providers/<provider>/<instance id>`. */
export function providerWebhookUrl(publicUrl: string, provider: WebhookProviderName, instanceId: string): string {
	return `${publicUrl.replace(/\/+$/, '')}/providers/${provider}/${encodeURIComponent(instanceId)}`;
}

/** Where an instance's provider sends its webhooks; undefined for a provider that sends none (the sandbox). */
export function instanceWebhookUrl(publicUrl: string, instance: { id: string; provider: string }): string | undefined {
	if (!isWebhookProvider(instance.provider)) return undefined;
	return providerWebhookUrl(publicUrl, instance.provider, instance.id);
}

/** A CLI `--setting name=value` list as settings (value "" or "null" removes the setting on update). */
export function settingsFromPairs(pairs: string[]): Record<string, string | null> {
	const settings: Record<string, string | null> = {};
	for (const pair of pairs) {
		const at = pair.indexOf('=');
		if (at <= 0) throw new InputError(`--setting must be name=value (got "${pair.split('=')[0]}…")`);
		const value = pair.slice(at + 1);
		settings[pair.slice(0, at)] = value === '' || value === 'null' ? null : value;
	}
	return settings;
}
