import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../common/hash';
import { randomBase62 } from './keys';
import type { AccountService } from './service';

const ADMIN_TOKEN_SETTING = 'admin_token_sha256';

/**
 * Without GATEWAY_ADMIN_TOKEN, the first start generates an operator token (whatever the database
 * holds already) and returns it to be shown once; only its hash is kept.
 */
export function ensureOperatorToken(accounts: AccountService, configured: string | undefined): string | undefined {
	if (configured || accounts.getSetting(ADMIN_TOKEN_SETTING) !== undefined) return undefined;
	return rotateOperatorToken(accounts);
}

/**
 * A new generated operator token, returned to be shown once; the previous one stops working at once
 * (GATEWAY_ADMIN_TOKEN, when set, is the operator token instead: the caller refuses then).
 */
export function rotateOperatorToken(accounts: AccountService): string {
	const token = `wg_admin_${randomBase62(40)}`;
	accounts.setSetting(ADMIN_TOKEN_SETTING, sha256(token));
	return token;
}

/** Checks an operator token against GATEWAY_ADMIN_TOKEN, or the generated one stored at first start. */
export function verifyAdminToken(
	accounts: AccountService,
	configured: string | undefined,
	presented: string | undefined,
): boolean {
	if (!presented) return false;
	const expected = configured ? sha256(configured) : accounts.getSetting(ADMIN_TOKEN_SETTING);
	if (!expected) return false;
	return timingSafeEqual(Buffer.from(sha256(presented), 'hex'), Buffer.from(expected, 'hex'));
}
