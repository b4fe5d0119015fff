import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { SIGNATURE_HEADERS_LOWER } from '../../contract/src/signature';
import { tempDir } from '../helpers/cli';
import { seedVerifyWebhookSignature } from '../helpers/seed-verifier';

/**
 * Nothing is lost across a crash: the real gateway process (server/bin, built server/dist) is killed with
 * SIGKILL while webhook deliveries are pending and in flight, then restarted on the same data folder; every
 * event still reaches the receiver, signed, and the restart creates no duplicate inbound rows or events.
 */

const BIN = path.resolve(__dirname, '../../server/bin/whatsapp-gateway.js');
const ADMIN_TOKEN = 'operator-token-for-crash-tests-0123456789';
const N = 50;
const CONCURRENCY = 8;
/** One subscription may hold three quarters of the worker's slots (the rest stay free for others). */
const IN_FLIGHT_PER_WEBHOOK = CONCURRENCY - Math.floor(CONCURRENCY / 4);
/** Answered 200 / 503 before the receiver starts holding every request unanswered (phase 1). */
const FIRST_OK = 5;
/** Fewer than FAILING_AFTER_CONSECUTIVE_FAILURES, so the worker still fills its slots before the crash. */
const THEN_503 = 2;

const execFileAsync = promisify(execFile);

// ---- the gateway process ------------------------------------------------------------------------------

interface GatewayProcess {
	child: ChildProcessWithoutNullStreams;
	port: number;
	output: () => string;
	exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcessWithoutNullStreams>();

function gatewayEnv(dataDir: string): NodeJS.ProcessEnv {
	return {
		...process.env,
		PORT: '0',
		HOST: '127.0.0.1',
		GATEWAY_DATA_DIR: dataDir,
		GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
		GATEWAY_LOG_LEVEL: 'info',
		// Enough attempts that nothing fails for good during the test; short so retries come quickly.
		GATEWAY_WEBHOOK_RETRY_SCHEDULE: '0,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms',
		// Long, so that the requests the receiver holds are still in flight when the process is killed.
		GATEWAY_WEBHOOK_TIMEOUT_MS: '60000',
		GATEWAY_WEBHOOK_CONCURRENCY: String(CONCURRENCY),
		GATEWAY_SANDBOX_STATUS_DELAY_MS: '60000',
	};
}

async function startGateway(dataDir: string): Promise<GatewayProcess> {
	const child = spawn(BIN, ['serve'], { env: gatewayEnv(dataDir) });
	children.add(child);
	let out = '';
	child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
	child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
	const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
		child.once('exit', (code, signal) => {
			children.delete(child);
			resolve({ code, signal });
		}),
	);
	const port = await new Promise<number>((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error(`the gateway did not log "gateway listening" within 20 s:\n${out}`)),
			20_000,
		);
		const check = () => {
			const match = /"port":(\d+)[^\n]*gateway listening/.exec(out);
			if (match) {
				clearTimeout(timer);
				resolve(Number(match[1]));
			}
		};
		child.stdout.on('data', check);
		void exited.then(({ code, signal }) => {
			clearTimeout(timer);
			reject(new Error(`the gateway exited (code ${code}, signal ${signal}) before listening:\n${out}`));
		});
	});
	return { child, port, output: () => out, exited };
}

async function kill(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	child.kill(signal);
	await exited;
}

/** The real CLI binary against the data folder; `--json` output parsed. */
async function cliJson<T>(dataDir: string, ...args: string[]): Promise<T> {
	const { stdout } = await execFileAsync(BIN, [...args, '--json'], {
		env: { ...process.env, GATEWAY_DATA_DIR: dataDir, GATEWAY_LOG_LEVEL: 'silent' },
		timeout: 20_000,
	});
	return JSON.parse(stdout) as T;
}

// ---- the receiver -------------------------------------------------------------------------------------

interface Hit {
	deliveryId: string;
	timestamp: string;
	signature: string;
	raw: Buffer;
	body: { event?: string; external_message_id?: string };
	/** The status the receiver answered; null when it held the request unanswered. */
	answered: number | null;
}

type Mode = 'script' | 'ok';

/**
 * A customer receiver on loopback. In 'script' mode it answers 200 to the first FIRST_OK requests, 503 to
 * the next THEN_503, and then holds every further request open without answering (so those deliveries stay
 * in flight inside the gateway). In 'ok' mode it answers 200 at once.
 */
async function startScriptedReceiver() {
	const hits: Hit[] = [];
	const held: http.ServerResponse[] = [];
	let mode: Mode = 'script';
	let scripted = 0;
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			const raw = Buffer.concat(chunks);
			const hit: Hit = {
				deliveryId: String(req.headers[SIGNATURE_HEADERS_LOWER.delivery]),
				timestamp: String(req.headers[SIGNATURE_HEADERS_LOWER.timestamp]),
				signature: String(req.headers[SIGNATURE_HEADERS_LOWER.signature]),
				raw,
				body: JSON.parse(raw.toString('utf8') || '{}') as Hit['body'],
				answered: null,
			};
			hits.push(hit);
			let status: number | null = 200;
			if (mode === 'script') {
				scripted += 1;
				status = scripted <= FIRST_OK ? 200 : scripted <= FIRST_OK + THEN_503 ? 503 : null;
			}
			if (status === null) {
				res.on('error', () => undefined);
				held.push(res);
				return;
			}
			hit.answered = status;
			res.writeHead(status, { 'Content-Type': 'text/plain' });
			res.end(status === 200 ? 'ok' : 'busy');
		});
	});
	server.keepAliveTimeout = 1000;
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}/hook`,
		hits,
		held,
		setMode: (next: Mode) => {
			mode = next;
		},
		/** Distinct delivery ids the receiver acknowledged with 200. */
		acknowledged: () => new Set(hits.filter((hit) => hit.answered === 200).map((hit) => hit.deliveryId)),
		close: () =>
			new Promise<void>((resolve) => {
				for (const res of held.splice(0)) res.destroy();
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}

// ---- helpers ------------------------------------------------------------------------------------------

/** Polls `check` until it returns true, failing with `describe()` after `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms: number, describe: () => string): Promise<void> {
	const deadline = Date.now() + ms;
	for (;;) {
		if (await check()) return;
		if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${describe()}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

async function inbound(port: number, id: string, text: string): Promise<{ duplicate: boolean; event_ids: string[] }> {
	const res = await fetch(`http://127.0.0.1:${port}/sandbox/inbound`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({ instance: 'demo-support-line', from: '+966501234567', text, id }),
	});
	const body = (await res.json()) as { duplicate: boolean; event_ids: string[] };
	if (res.status !== 200) throw new Error(`POST /sandbox/inbound answered ${res.status}: ${JSON.stringify(body)}`);
	return body;
}

interface DeliveryJson {
	id: number;
	event_id: string;
	status: string;
	attempts: number;
}

const deliveriesList = (dataDir: string) => cliJson<DeliveryJson[]>(dataDir, 'deliveries', 'list', '--limit', '1000');

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
	return counts;
}

// ---- the test -----------------------------------------------------------------------------------------

let dir: string | undefined;
let receiver: Awaited<ReturnType<typeof startScriptedReceiver>> | undefined;

afterEach(async () => {
	await Promise.all([...children].map((child) => kill(child, 'SIGKILL')));
	await receiver?.close();
	receiver = undefined;
	if (dir) fs.rmSync(dir, { recursive: true, force: true });
	dir = undefined;
});

describe('crash safety of webhook deliveries', () => {
	it('SIGKILL with deliveries pending and in flight: after a restart every event arrives, signed, once in the log', async () => {
		dir = tempDir('wg-crash-');
		const dataDir = dir;
		receiver = await startScriptedReceiver();
		const rx = receiver;

		// -- first life: bootstrap, subscribe, receive N messages; the receiver is slow to accept them --
		const first = await startGateway(dataDir);
		const webhook = await cliJson<{ id: string; signing_secret: string }>(
			dataDir,
			'webhooks',
			'create',
			'--account',
			'1',
			'--url',
			rx.url,
			'--events',
			'message.received',
		);
		expect(webhook.signing_secret).toEqual(expect.any(String));

		const ids = Array.from({ length: N }, (_, i) => `wamid.crash-${i}`);
		const eventIds = new Set<string>();
		for (const [i, id] of ids.entries()) {
			const result = await inbound(first.port, id, `Question ${i} about order #${2000 + i}`);
			expect(result.duplicate).toBe(false);
			expect(result.event_ids).toHaveLength(1);
			eventIds.add(result.event_ids[0]);
		}
		expect(eventIds.size).toBe(N);

		// Wait until the worker is saturated with requests the receiver holds: those are in flight.
		await until(
			() => rx.held.length >= IN_FLIGHT_PER_WEBHOOK,
			15_000,
			() => `${rx.held.length} requests held, ${rx.hits.length} received`,
		);
		const heldIds = new Set(rx.hits.filter((hit) => hit.answered === null).map((hit) => hit.deliveryId));
		const ackedBeforeCrash = rx.acknowledged();
		expect(heldIds.size).toBe(IN_FLIGHT_PER_WEBHOOK);
		expect(ackedBeforeCrash.size).toBeLessThanOrEqual(FIRST_OK);
		expect(ackedBeforeCrash.size).toBeLessThan(N);

		first.child.kill('SIGKILL');
		expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

		// What the crash left behind: every delivery exists, none failed, most are still pending.
		const afterCrash = await deliveriesList(dataDir);
		expect(afterCrash).toHaveLength(N);
		const crashStatuses = countBy(afterCrash, (row) => row.status);
		expect(crashStatuses.failed ?? 0).toBe(0);
		expect(crashStatuses.succeeded ?? 0).toBeLessThanOrEqual(ackedBeforeCrash.size);
		expect(crashStatuses.pending).toBeGreaterThanOrEqual(N - FIRST_OK);
		for (const row of afterCrash.filter((r) => heldIds.has(r.event_id))) expect(row.status).toBe('pending');

		// -- second life: same data folder, the receiver now answers 200 --
		for (const res of rx.held.splice(0)) res.destroy();
		rx.setMode('ok');
		const second = await startGateway(dataDir);

		await until(
			() => [...eventIds].every((id) => rx.acknowledged().has(id)),
			15_000,
			() => `${[...eventIds].filter((id) => !rx.acknowledged().has(id)).length} of ${N} events not acknowledged yet`,
		);
		const acknowledged = rx.acknowledged();
		expect(acknowledged.size).toBe(N);
		expect([...acknowledged].sort()).toEqual([...eventIds].sort());
		// The deliveries in flight at the crash went out again with the same delivery id.
		for (const id of heldIds) expect(acknowledged.has(id)).toBe(true);

		// Each acknowledged request is message.received for one of the N messages, validly signed.
		const okHits = rx.hits.filter((hit) => hit.answered === 200);
		expect(new Set(okHits.map((hit) => hit.body.external_message_id))).toEqual(new Set(ids));
		for (const hit of rx.hits) {
			expect(hit.body.event).toBe('message.received');
			expect(hit.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
			expect(seedVerifyWebhookSignature(hit.timestamp, hit.raw, hit.signature, webhook.signing_secret)).toBe(true);
		}

		// The provider repeating messages after the restart creates nothing new.
		for (const id of ids.slice(0, 5))
			expect(await inbound(second.port, id, 'repeated by the provider')).toMatchObject({
				duplicate: true,
				event_ids: [],
			});

		// Acknowledged is not yet recorded: the outcome commits just after the answer arrives.
		let rows: DeliveryJson[] = [];
		await until(
			async () => {
				rows = await deliveriesList(dataDir);
				return rows.length === N && rows.every((row) => row.status === 'succeeded');
			},
			15_000,
			() => `deliveries: ${JSON.stringify(countBy(rows, (row) => row.status))}`,
		);
		expect(new Set(rows.map((row) => row.event_id))).toEqual(eventIds);

		// A clean stop, then the log itself: N inbound rows, N events, N deliveries.
		second.child.kill('SIGTERM');
		expect(await second.exited).toEqual({ code: 0, signal: null });
		const db = new Database(path.join(dataDir, 'gateway.db'), { readonly: true });
		try {
			const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
			expect(count('inbound_messages')).toBe(N);
			expect(count('events')).toBe(N);
			expect(count('deliveries')).toBe(N);
			const distinct = db.prepare('SELECT COUNT(DISTINCT provider_message_id) AS n FROM inbound_messages').get() as {
				n: number;
			};
			expect(distinct.n).toBe(N);
		} finally {
			db.close();
		}
	}, 60_000);
});
