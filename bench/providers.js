'use strict';

/**
 * `npm run bench:providers`: sending through a real provider's latency, as users run the gateway.
 *
 * The gateway is the real `whatsapp-gateway serve` process with its defaults (set up with the real CLI:
 * an account with reviewed limits high enough not to refuse, an Evolution API instance whose pace allows
 * the load, connected with `instances connect`). The provider (bench/slow-provider.js, its own process)
 * answers every send after 150 ms. 100 concurrent senders (autocannon connections, one request each in
 * flight) post to /api/send-message with distinct recipients and texts.
 *
 * Target: at least 90% of 100 / 0.15 s = 600 sends per second, p99 under 250 ms. Prints the figures and
 * PASS or MISS. Exit status 1 only when something broke (a non-2xx answer, a crash), not on a MISS.
 *
 * Environment: BENCH_DURATION (measured seconds, default 10), BENCH_WARMUP (default 3),
 * BENCH_CONNECTIONS (default 100), BENCH_PROVIDER_DELAY_MS (default 150).
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, fork, spawn } = require('node:child_process');
const autocannon = require('autocannon');
const { makeSendBody } = require('./load');
const { freePort } = require('./serve-process');

const DURATION_S = Number(process.env.BENCH_DURATION || 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP || 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 100);
const DELAY_MS = Number(process.env.BENCH_PROVIDER_DELAY_MS || 150);
const TARGET_RPS = 0.9 * (CONNECTIONS / (DELAY_MS / 1000));
const TARGET_P99_MS = 250;
const BIN = path.join(__dirname, '..', 'server', 'bin', 'whatsapp-gateway.js');
const PROVIDER_KEY = 'bench-evolution-key';

const children = new Set();
process.on('exit', () => {
	for (const child of children) child.kill('SIGKILL');
});

/** The real CLI, as an operator runs it; --json answers parsed. */
function cli(env, ...args) {
	return JSON.parse(execFileSync(process.execPath, [BIN, ...args, '--json'], { env, encoding: 'utf8' }));
}

function startProvider() {
	return new Promise((resolve, reject) => {
		const child = fork(path.join(__dirname, 'slow-provider.js'), [], {
			env: { ...process.env, BENCH_PROVIDER_DELAY_MS: String(DELAY_MS), BENCH_PROVIDER_API_KEY: PROVIDER_KEY },
			stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
		});
		children.add(child);
		child.stdout.once('data', (chunk) => resolve({ child, port: JSON.parse(chunk.toString()).port }));
		child.once('exit', (code) => reject(new Error(`provider exited with ${code}`)));
	});
}

/** `serve` as users start it; ready once GET / answers (its log level is left at the default). */
async function startGateway(env, port) {
	// The launcher itself, so its shebang's node flags apply as they do for `npm start`.
	const child = process.env.BENCH_CPU_PROF_DIR
		? spawn(
				process.execPath,
				[
					'--max-semi-space-size=4',
					'--heap-growing-percent=25',
					'--cpu-prof',
					`--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`,
					BIN,
					'serve',
				],
				{ env, stdio: ['ignore', 'ignore', 'inherit'] },
			)
		: spawn(BIN, ['serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
	children.add(child);
	let exited = false;
	child.once('exit', () => (exited = true));
	for (let attempt = 0; attempt < 300; attempt += 1) {
		if (exited) throw new Error('the gateway exited before it answered');
		try {
			const answer = await fetch(`http://127.0.0.1:${port}/`);
			if (answer.ok) return child;
		} catch {
			// not listening yet
		}
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	throw new Error(`the gateway did not answer on ${port} within 30 s`);
}

function cannon(options) {
	return new Promise((resolve, reject) =>
		autocannon(options, (error, result) => (error ? reject(error) : resolve(result))),
	);
}

async function main() {
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-bench-providers-'));
	try {
		const provider = await startProvider();
		const port = await freePort();
		const env = { ...process.env, GATEWAY_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' };

		const account = cli(
			env,
			'accounts',
			'create',
			'--name',
			'bench',
			'--plan',
			'scale',
			'--daily-limit',
			'10000000',
			'--monthly-limit',
			'10000000',
			'--instance-rate',
			'10000000',
			'--recipient-rate',
			'1000',
		);
		cli(
			env,
			'instances',
			'create',
			'--account',
			String(account.id),
			'--name',
			'bench-line',
			'--provider',
			'evolution',
			'--setting',
			`baseUrl=http://127.0.0.1:${provider.port}`,
			'--setting',
			`apiKey=${PROVIDER_KEY}`,
			'--setting',
			'pacePerMinute=60000',
		);
		cli(env, 'instances', 'connect', 'bench-line');
		const { key } = cli(env, 'keys', 'create', '--account', String(account.id));

		const gateway = await startGateway(env, port);
		let n = 0;
		let firstError;
		const requests = [
			{
				method: 'POST',
				path: '/api/send-message',
				headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
				setupRequest: (request) => {
					n += 1;
					request.body = makeSendBody(n);
					return request;
				},
				onResponse: (status, body) => {
					if (status !== 200 && !firstError) firstError = { status, body };
				},
			},
		];
		const base = { url: `http://127.0.0.1:${port}`, connections: CONNECTIONS, pipelining: 1, timeout: 10, requests };
		console.log(
			`providers benchmark: the real serve process, an Evolution API provider answering after ${DELAY_MS} ms, ${CONNECTIONS} concurrent senders`,
		);
		if (WARMUP_S > 0) {
			const warm = await cannon({ ...base, duration: WARMUP_S });
			console.log(`  warm-up ${WARMUP_S} s: ${Math.round(warm.requests.average)} sends/s`);
		}
		const result = await cannon({ ...base, duration: DURATION_S });
		const rps = result['2xx'] / DURATION_S;
		const p99 = result.latency.p99;
		const pass = rps >= TARGET_RPS && p99 < TARGET_P99_MS;
		console.log(
			`  measured ${DURATION_S} s: ${rps.toFixed(1)} sends/s (target ≥ ${TARGET_RPS.toFixed(0)}), ` +
				`latency p50 ${result.latency.p50} ms, p99 ${p99} ms (target < ${TARGET_P99_MS}), max ${result.latency.max} ms; ` +
				`non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}`,
		);
		console.log(`  ${pass ? 'PASS' : 'MISS'}`);
		gateway.kill('SIGTERM');
		await new Promise((resolve) => gateway.once('exit', resolve));
		children.delete(gateway);
		if (result.non2xx > 0 || result.errors > 0) {
			console.error(`  broken: first non-2xx answer ${JSON.stringify(firstError)}`);
			process.exitCode = 1;
		}
	} finally {
		for (const child of children) child.kill('SIGKILL');
		fs.rmSync(dataDir, { recursive: true, force: true });
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
