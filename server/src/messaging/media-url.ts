import { checkDestination, type DestinationOptions } from '../events/destination';
import { ApiError } from '../http/errors';
import { InputError } from '../input-error';

/**
 * Where a tenant's media URL may point. The provider downloads it, not the gateway (Evolution fetches it
 * from its own host), so an internal address would reach the provider's network and the bytes would go to
 * the tenant's recipient: the same destination rules as customer webhooks apply (docs/api.md, "Sending
 * media"). Cloud metadata, link-local and reserved addresses are always refused; loopback and private ones
 * when they are blocked (GATEWAY_MEDIA_BLOCK_PRIVATE, by default as GATEWAY_WEBHOOK_BLOCK_PRIVATE).
 */
export interface MediaDestinations extends DestinationOptions {
	/** DNS for a host name (tests give their own); every address is checked. */
	lookup?: (host: string) => Promise<string[]>;
}

/** The result of checking one media URL before the guards run: the URL as parsed, and why it is refused. */
export interface MediaUrlCheck {
	href: string;
	refusal: string | undefined;
}

/**
 * Resolves and checks an https media URL in a request body, before the pipeline (DNS is asynchronous and
 * the guards are not); step 7 then refuses with the result. Anything that is not an https URL is left to
 * step 7's own validation. A host name is resolved now, at send time: with private addresses blocked, one
 * that does not resolve is refused (nothing shows it is public); with them allowed, it passes, since the
 * provider may resolve it where the gateway cannot. A name that resolves differently for the provider
 * later (DNS rebinding) is beyond the gateway's reach: only the provider's host can stop that.
 */
export async function checkMediaUrl(
	value: unknown,
	destinations: MediaDestinations,
): Promise<MediaUrlCheck | undefined> {
	if (typeof value !== 'string' || !/^https:\/\//i.test(value.trim())) return undefined;
	let url: URL;
	try {
		url = new URL(value.trim());
	} catch {
		return undefined;
	}
	try {
		await checkDestination(url, { ...destinations, subject: 'media URL', allowUnresolved: true });
	} catch (error) {
		if (!(error instanceof InputError)) throw error;
		return { href: url.href, refusal: error.message };
	}
	return { href: url.href, refusal: undefined };
}

/** Step 7's part: a media URL goes on only as checked, and not refused. */
export function requireCheckedMediaUrl(href: string, check: MediaUrlCheck | undefined): void {
	if (check === undefined || check.href !== href) {
		// Every caller that accepts media checks its URL first; reaching here unchecked is a bug, never a pass.
		throw new Error(`the media URL ${href} was not checked before the send pipeline`);
	}
	if (check.refusal !== undefined) throw new ApiError('validation_error', { fields: { media: check.refusal } });
}
