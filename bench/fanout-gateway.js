'use strict';

/**
 * The gateway of the fan-out benchmark: the built Gateway (server/dist) on a real file database (WAL) in
 * BENCH_DATA_DIR, one account and sandbox instance (bench/gateway-setup.js), its delivery worker started as
 * `serve` starts it. No HTTP server: events are produced in this process through
 * `gateway.inbound.receiveMessage()` (what the provider adapters and POST /sandbox/inbound call), so what is
 * measured is the outbox and the delivery worker.
 *
 * Environment: BENCH_DATA_DIR, BENCH_FANOUT_CONCURRENCY (the worker's concurrency, GATEWAY_WEBHOOK_CONCURRENCY).
 * Commands:
 *   'subscribe' { urls }                      one message.received subscription per URL -> [{ id, url, secret }]
 *   'generate'  { events, rate, batch }       inbound messages (event + one delivery per subscription each, in
 *                                             the group commit); rate = events/s, 0 = as fast as possible in
 *                                             batches of `batch` per event-loop turn -> { firstRecordedAt, … }
 *   'idle'                                    waits for the worker to have nothing due or in flight, then
 *                                             -> { deliveries: { status: n }, events }
 */

const { runIpcChild } = require('./child');
const { recipient, setupGateway } = require('./gateway-setup');

runIpcChild({
	async setup() {
		const concurrency = Number(process.env.BENCH_FANOUT_CONCURRENCY || 64);
		const { gateway, databasePath, account, instance, databaseInfo } = setupGateway({
			// What `serve` passes (Gateway.fromConfig), with the concurrency raised; the rest are the defaults.
			gatewayOptions: { delivery: { concurrency, timeoutMs: 10_000, allowPrivate: true } },
			account: { name: 'bench-fanout', plan: 'scale' },
			instance: {
				name: 'bench-fanout-line',
				displayName: 'Bench Fan-out Line',
				provider: 'sandbox',
				connectionState: 'connected',
			},
		});

		let counter = 0;
		const receiveOne = () => {
			const n = counter++;
			// Promise.resolve: builds from before inbound messages joined the group commit answered at once.
			return Promise.resolve(
				gateway.inbound.receiveMessage({
					instanceId: instance.id,
					providerMessageId: `bench-in.${n}`,
					from: recipient(n),
					text: `Hello, I have a question about order #${n}.`,
				}),
			).then((result) => {
				if (result.duplicate || result.eventIds.length !== 1) {
					throw new Error(`inbound message ${n} did not record one event: ${JSON.stringify(result)}`);
				}
			});
		};

		/** Produces `events` inbound messages, as fast as possible or at `rate` per second. */
		const generate = ({ events, rate = 0, batch = 20 }) =>
			new Promise((resolve, reject) => {
				let done = 0;
				let firstRecordedAt;
				const startedAt = Date.now();
				const stored = [];
				// Messages join the gateway's group commit: recorded once their commit resolves.
				const finish = () =>
					Promise.all(stored).then(
						() => resolve({ events: done, firstRecordedAt, lastRecordedAt: Date.now(), startedAt }),
						reject,
					);
				const produce = (count) => {
					for (let i = 0; i < count && done < events; i++) {
						stored.push(
							receiveOne().then(() => {
								if (firstRecordedAt === undefined) firstRecordedAt = Date.now();
							}),
						);
						done += 1;
					}
				};
				if (rate > 0) {
					const timer = setInterval(() => {
						try {
							const due = Math.min(events, Math.floor(((Date.now() - startedAt) / 1000) * rate) + 1);
							produce(due - done);
							if (done >= events) {
								clearInterval(timer);
								finish();
							}
						} catch (error) {
							clearInterval(timer);
							reject(error);
						}
					}, 2);
					return;
				}
				const tick = () => {
					try {
						produce(batch);
						if (done >= events) finish();
						else setImmediate(tick);
					} catch (error) {
						reject(error);
					}
				};
				tick();
			});

		return {
			info: {
				databasePath,
				concurrency,
				...databaseInfo(),
			},
			commands: {
				async subscribe({ urls }) {
					const created = [];
					for (const url of urls) {
						const { webhook, secret } = await gateway.webhooks.create({
							accountId: account.id,
							destinationUrl: url,
							events: ['message.received'],
						});
						created.push({ id: webhook.id, url, secret });
					}
					gateway.deliveries.start();
					return created;
				},
				generate,
				async idle() {
					await gateway.deliveries.idle();
					const rows = gateway.db.prepare('SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status').all();
					const events = gateway.db.prepare('SELECT COUNT(*) AS n FROM events').get().n;
					const lastError = gateway.db
						.prepare('SELECT last_error FROM deliveries WHERE last_error IS NOT NULL ORDER BY id DESC LIMIT 1')
						.pluck()
						.get();
					return { deliveries: Object.fromEntries(rows.map((row) => [row.status, row.n])), events, lastError };
				},
			},
			close() {
				// Stop taking deliveries; whatever is in flight is abandoned (the process exits right after).
				gateway.deliveries.stop().catch(() => undefined);
				gateway.close();
			},
		};
	},
});
