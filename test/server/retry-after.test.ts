import { parseRetryAfter } from '../../server/src/common/retry-after';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

describe('parseRetryAfter (providers and webhook deliveries alike)', () => {
	it('reads delay-seconds, surrounding spaces allowed', () => {
		expect(parseRetryAfter('10', NOW)).toBe(10_000);
		expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
		expect(parseRetryAfter('86400', NOW)).toBe(86_400_000);
	});

	it('reads an HTTP date as the time left until it', () => {
		expect(parseRetryAfter('Thu, 15 Jan 2026 12:01:30 GMT', NOW)).toBe(90_000);
		expect(parseRetryAfter(new Date(NOW + 5000).toUTCString(), NOW)).toBe(5000);
	});

	it('a date already past means no wait, never a negative one', () => {
		expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', NOW)).toBe(0);
	});

	it('a negative number is no delay-seconds: it never gives a negative wait', () => {
		// V8's lenient Date.parse reads "-5" as a date long past, so it means "now", as a past date does.
		expect(parseRetryAfter('-5', NOW)).toBe(0);
		expect(parseRetryAfter('-120', NOW)).not.toBeLessThan(0);
	});

	it('absent or empty: undefined', () => {
		expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
		expect(parseRetryAfter('', NOW)).toBeUndefined();
	});

	it('garbage: undefined', () => {
		expect(parseRetryAfter('soon', NOW)).toBeUndefined();
		expect(parseRetryAfter('ten seconds', NOW)).toBeUndefined();
	});
});
