import { VelocityState } from '../../server/src/messaging/limits';

describe('the velocity state', () => {
	it('forgets expired limiter keys once it has doubled since the last sweep, so it holds recent traffic only', () => {
		const state = new VelocityState();
		const floor = VelocityState.SWEEP_FLOOR;
		// A minute of unique recipients, each key expiring a minute after its send.
		for (let i = 0; i < floor - 1; i += 1) state.set(`recipient:1:${i}`, 60_000 + i);
		state.sweepIfGrown(1_000_000);
		expect(state.size).toBe(floor - 1); // below the floor: nothing is walked
		state.set('recipient:1:live', 2_000_000);
		state.sweepIfGrown(1_000_000);
		expect(state.size).toBe(1); // only the key still limiting
		expect(state.get('recipient:1:live')).toBe(2_000_000);
		expect(state.get('recipient:1:0')).toBeUndefined();
	});

	it('waits until the map has doubled again before the next sweep', () => {
		const state = new VelocityState();
		const floor = VelocityState.SWEEP_FLOOR;
		for (let i = 0; i < floor; i += 1) state.set(`live:${i}`, 10_000_000);
		state.sweepIfGrown(0);
		expect(state.size).toBe(floor);
		for (let i = 0; i < floor - 1; i += 1) state.set(`old:${i}`, 1);
		state.sweepIfGrown(5);
		expect(state.size).toBe(2 * floor - 1);
		state.set('old:last', 1);
		state.sweepIfGrown(5);
		expect(state.size).toBe(floor);
	});
});
