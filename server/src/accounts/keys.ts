import { randomBytes } from 'node:crypto';
import { sha256 } from '../common/hash';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const API_KEY_PREFIX = 'wg_live_';
const API_KEY_RANDOM_LENGTH = 40;
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 6;

/** Uniform base62 text from the system CSPRNG (bytes of 248 or more are dropped to avoid modulo bias). */
export function randomBase62(length: number): string {
	let out = '';
	while (out.length < length) {
		for (const byte of randomBytes(length * 2)) {
			if (byte < 248 && out.length < length) out += BASE62[byte % 62];
		}
	}
	return out;
}

export function generateApiKey(): string {
	return API_KEY_PREFIX + randomBase62(API_KEY_RANDOM_LENGTH);
}

export function hashApiKey(key: string): string {
	return sha256(key);
}

export function displayPrefix(key: string): string {
	return key.slice(0, DISPLAY_PREFIX_LENGTH);
}
