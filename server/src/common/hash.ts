import { hash } from 'node:crypto';

/** Hex SHA-256 of a text (API keys, operator tokens, request bodies, message content); one call, no Hash object. */
export function sha256(text: string): string {
	return hash('sha256', text, 'hex');
}
