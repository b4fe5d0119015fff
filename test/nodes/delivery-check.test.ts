/**
 * The Trigger's memory of delivery ids (nodes/WhatsAppGatewayTrigger/delivery-check.ts): retries and replays
 * of a signed webhook-id are duplicates while its timestamp can still pass the signature check, in bounded
 * static data.
 */
import {
	MAX_REPLAY_WINDOW_IDS,
	REMEMBERED_DELIVERIES,
	rememberDelivery,
	type DeliveryMemory,
} from '../../nodes/WhatsAppGatewayTrigger/delivery-check';

const NOW = 1778234400;

describe('rememberDelivery', () => {
	it('a seed-only delivery (no signed id) is compared with the latest ids only, as before', () => {
		const memory: DeliveryMemory = {};
		expect(rememberDelivery(memory, 'evt_a', undefined, NOW)).toBe('new');
		expect(rememberDelivery(memory, 'evt_a', undefined, NOW)).toBe('duplicate');
		expect(memory).toEqual({ recentDeliveryIds: ['evt_a'] });
		expect(rememberDelivery(memory, undefined, undefined, NOW)).toBe('new');
	});

	it('keeps a signed id while its timestamp is within 300 s, beyond the latest ids, then forgets it', () => {
		const memory: DeliveryMemory = {};
		expect(rememberDelivery(memory, 'evt_first', NOW, NOW)).toBe('new');
		for (let i = 0; i < REMEMBERED_DELIVERIES; i++) rememberDelivery(memory, `evt_${i}`, NOW + 1, NOW + 1);
		expect(memory.recentDeliveryIds).not.toContain('evt_first');
		expect(rememberDelivery(memory, 'evt_first', NOW, NOW + 300)).toBe('duplicate');
		// At 301 s its signature no longer passes, so the id need not be kept.
		rememberDelivery(memory, 'evt_later', NOW + 301, NOW + 301);
		expect(Object.keys(memory.replayWindow ?? {})).not.toContain('evt_first');
	});

	it(`holds at most ${MAX_REPLAY_WINDOW_IDS} ids; older timestamps than one it dropped are refused, not run twice`, () => {
		const memory: DeliveryMemory = {};
		for (let i = 0; i <= MAX_REPLAY_WINDOW_IDS; i++) {
			// Timestamps NOW-100 … climbing, the first one lowest.
			expect(rememberDelivery(memory, `evt_${i}`, NOW - 100 + Math.floor(i / 100), NOW)).toBe('new');
		}
		expect(Object.keys(memory.replayWindow ?? {})).toHaveLength(MAX_REPLAY_WINDOW_IDS);
		expect(memory.replayFloor).toBe(NOW - 100);
		// evt_0 was dropped while its timestamp was still valid: a replay of it cannot be told apart, so it is refused.
		expect(rememberDelivery(memory, 'evt_0', NOW - 100, NOW)).toBe('undecidable');
		// So is a delivery signed that early that was never seen (one sent in parallel); the gateway's retry
		// carries a fresh timestamp and is decided normally.
		expect(rememberDelivery(memory, 'evt_parallel', NOW - 100, NOW)).toBe('undecidable');
		expect(rememberDelivery(memory, 'evt_parallel', NOW, NOW)).toBe('new');
		expect(rememberDelivery(memory, 'evt_parallel', NOW, NOW)).toBe('duplicate');
	});
});
