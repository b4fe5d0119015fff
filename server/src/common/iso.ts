/** Unix milliseconds as an ISO 8601 UTC string, the form every API answer and CLI document uses. */
export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
	return ms === null ? null : new Date(ms).toISOString();
}
