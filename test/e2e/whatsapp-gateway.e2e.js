#!/usr/bin/env node
/**
 * End-to-end round trip in a real n8n (the pinned version in test/e2e/n8n/, installed by
 * `npm run e2e:install` into .cache/n8n-e2e/):
 *
 *   sandbox inbound message → gateway signs and delivers message.received → WhatsApp Gateway Trigger
 *   → WhatsApp Gateway node (Send Message, purpose support) → the reply in the gateway's message log.
 *
 * It starts the gateway (`server/bin/whatsapp-gateway.js serve`) on a temporary data folder and n8n with
 * N8N_CUSTOM_EXTENSIONS pointing at a copy of the built package (dist/ and package.json), imports the
 * credential and the workflow (test/e2e/fixtures/reply-workflow.json) and activates it with the n8n CLI.
 * Also checks that n8n's webhook answers 401 to an unsigned POST and starts no execution.
 *
 * Run with `npm run test:e2e` (install, build, this script) or `node test/e2e/whatsapp-gateway.e2e.js`
 * after `npm run e2e:install && npm run build`. Exits 0 when everything holds, 1 otherwise, printing both
 * processes' logs on failure. E2E_KEEP=1 keeps the temporary folder; N8N_E2E_CACHE moves the n8n install.
 */
'use strict';

const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');
const { setTimeout: sleep } = require('node:timers/promises');

const ROOT = path.resolve(__dirname, '../..');
const N8N_CACHE = process.env.N8N_E2E_CACHE || path.join(ROOT, '.cache/n8n-e2e');
const N8N_BIN = path.join(N8N_CACHE, 'node_modules/n8n/bin/n8n');
const GATEWAY_BIN = path.join(ROOT, 'server/bin/whatsapp-gateway.js');
const WORKFLOW_FIXTURE = path.join(__dirname, 'fixtures/reply-workflow.json');

const ADMIN_TOKEN = 'e2e-operator-token-0123456789abcdef';
const CREDENTIAL_ID = 'WaGatewayE2eCred';
const WORKFLOW_ID = 'WaGatewayE2eFlow';
const FROM = '+966501234567';
const INBOUND_TEXT = 'Hello from the e2e test';
const EXPECTED_REPLY = `Thanks, we got: ${INBOUND_TEXT}`;

// The 3CX step: a 3CX node in n8n reports a missed call of the customer who wrote first (FROM).
const THREECX_WORKFLOW_FIXTURE = path.join(__dirname, 'fixtures/threecx-missed-call-workflow.json');
const THREECX_CREDENTIAL_ID = 'WaGateway3cxE2eCred';
const THREECX_WORKFLOW_ID = 'WaGateway3cxE2eFlow';
const THREECX_BUSINESS_NAME = 'E2E Clinic';

/** Generous: n8n's first start runs its migrations (about 10 s here, more on a slow CI machine). */
const N8N_START_TIMEOUT_MS = 180_000;
const ROUND_TRIP_TIMEOUT_MS = 60_000;

const started = Date.now();
const children = [];
let tmp;

function log(message) {
	const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
	process.stdout.write(`[e2e ${seconds}s] ${message}\n`);
}

/** A port nobody listens on right now (n8n needs it before it starts, for WEBHOOK_URL). */
function freePort() {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

/** A long-running child in its own process group, its output kept in memory and in a log file. */
function startProcess(name, command, args, env) {
	const logFile = path.join(tmp, `${name}.log`);
	const out = fs.createWriteStream(logFile);
	const child = spawn(command, args, { cwd: tmp, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
	const proc = { name, child, logFile, output: '', exited: null };
	const collect = (chunk) => {
		proc.output += chunk.toString();
		out.write(chunk);
	};
	child.stdout.on('data', collect);
	child.stderr.on('data', collect);
	child.on('exit', (code, signal) => {
		proc.exited = { code, signal };
		out.end();
	});
	children.push(proc);
	return proc;
}

async function stopProcess(proc) {
	if (proc.exited) return;
	const exited = new Promise((resolve) => proc.child.once('exit', resolve));
	try {
		process.kill(-proc.child.pid, 'SIGTERM');
	} catch {
		return;
	}
	// Unreferenced timers: they must not keep this script alive once both processes are gone.
	const done = await Promise.race([exited.then(() => true), sleep(15_000, false, { ref: false })]);
	if (!done) {
		try {
			process.kill(-proc.child.pid, 'SIGKILL');
		} catch {
			// already gone
		}
		await Promise.race([exited, sleep(5_000, undefined, { ref: false })]);
	}
}

/** Calls `check` until it returns something truthy; fails early when one of `watch` exits. */
async function waitFor(description, timeoutMs, check, watch = []) {
	const deadline = Date.now() + timeoutMs;
	let lastError;
	for (;;) {
		for (const proc of watch) {
			if (proc.exited) {
				throw new Error(`${proc.name} exited (${JSON.stringify(proc.exited)}) while waiting for ${description}`);
			}
		}
		try {
			const result = await check();
			if (result) return result;
		} catch (error) {
			lastError = error;
		}
		if (Date.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${description}` +
				(lastError ? ` (last error: ${lastError.message})` : ''));
		}
		await sleep(250);
	}
}

/** Runs a short command to completion; rejects with its output when it fails. */
function run(command, args, env) {
	return new Promise((resolve, reject) => {
		execFile(command, args, { cwd: tmp, env, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
			if (error) {
				error.message += `\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
				reject(error);
			} else {
				resolve({ stdout, stderr });
			}
		});
	});
}

async function http(method, url, { headers = {}, body } = {}) {
	const response = await fetch(url, {
		method,
		headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
		body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
		redirect: 'manual',
		signal: AbortSignal.timeout(10_000),
	});
	const text = await response.text();
	let json;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: response.status, text, json };
}

/** Reads one of the SQLite files read-only, with the gateway's better-sqlite3 (hoisted to the root or not). */
function queryDb(file, sql, ...params) {
	const Database = require(require.resolve('better-sqlite3', { paths: [ROOT, path.join(ROOT, 'server')] }));
	const db = new Database(file, { readonly: true, fileMustExist: true });
	try {
		return db.prepare(sql).all(...params);
	} finally {
		db.close();
	}
}

/**
 * The environment for both processes, without a developer's own gateway or n8n settings
 * (N8N_ENCRYPTION_KEY, DB_POSTGRESDB_*, GATEWAY_WEBHOOK_*, PORT, …), which would change what is tested.
 */
function baseEnv() {
	const skip = /^(N8N_|DB_|EXECUTIONS_|QUEUE_|GENERIC_|GATEWAY_|WEBHOOK_URL$|PORT$|HOST$)/;
	return Object.fromEntries(Object.entries(process.env).filter(([name]) => !skip.test(name)));
}

function checkPrerequisites() {
	if (!fs.existsSync(N8N_BIN)) {
		throw new Error(`n8n is not installed in ${N8N_CACHE}: run \`npm run e2e:install\` first`);
	}
	for (const file of [
		'dist/nodes/WhatsAppGateway/WhatsAppGateway.node.js',
		'dist/nodes/WhatsAppGatewayTrigger/WhatsAppGatewayTrigger.node.js',
		'dist/credentials/WhatsAppGatewayApi.credentials.js',
		'server/dist/server/src/cli/main.js',
	]) {
		if (!fs.existsSync(path.join(ROOT, file))) throw new Error(`${file} is missing: run \`npm run build\` first`);
	}
}

/**
 * What n8n loads through N8N_CUSTOM_EXTENSIONS: a folder holding the package's runtime files
 * (package.json and the built dist/; no node_modules, the package has no runtime dependencies). n8n's CustomDirectoryLoader registers every *.node.js and
 * *.credentials.js below it, with node types prefixed "CUSTOM."; `n8n-workflow` resolves from n8n's own
 * copy (n8n puts its module paths on NODE_PATH). A copy, not a link, so nothing resolves from the repo's
 * node_modules by accident.
 */
function prepareCustomExtensions() {
	const extensions = path.join(tmp, 'n8n-custom');
	const packageDir = path.join(extensions, 'n8n-nodes-whatsapp-gateway');
	fs.mkdirSync(packageDir, { recursive: true });
	fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(packageDir, 'package.json'));
	fs.cpSync(path.join(ROOT, 'dist'), path.join(packageDir, 'dist'), { recursive: true });
	return extensions;
}

/**
 * Before n8n starts: a 3CX integration on the demo instance (with an HMAC secret, so n8n signs), the 3CX
 * credential holding its secrets, and the missed-call workflow, imported and activated with the n8n CLI.
 */
async function prepareThreecx({ gatewayUrl, gatewayEnv, n8nCli }) {
	for (const file of ['dist/nodes/WhatsAppGateway3Cx/WhatsAppGateway3Cx.node.js', 'dist/credentials/WhatsAppGateway3CxApi.credentials.js']) {
		if (!fs.existsSync(path.join(ROOT, file))) throw new Error(`${file} is missing: run \`npm run build\` first`);
	}
	const created = await run(process.execPath, [
		GATEWAY_BIN, '3cx', 'create', '--account', '1', '--instance', 'demo-support-line',
		'--business-name', THREECX_BUSINESS_NAME, '--generate-hmac-secret', '--json',
	], gatewayEnv);
	const integration = JSON.parse(created.stdout);
	assert.match(integration.secret, /^tcx_/);
	const credentialFile = path.join(tmp, 'threecx-credentials.json');
	fs.writeFileSync(credentialFile, JSON.stringify([
		{
			id: THREECX_CREDENTIAL_ID,
			name: 'WhatsApp Gateway 3CX (e2e)',
			type: 'whatsAppGateway3CxApi',
			data: { baseUrl: gatewayUrl, integrationId: integration.id, webhookSecret: integration.secret, hmacSecret: integration.hmac_secret },
		},
	], null, 2));
	let output = await n8nCli('import:credentials', `--input=${credentialFile}`);
	assert.match(output, /Successfully imported 1 credential/, output);
	output = await n8nCli('import:workflow', `--input=${THREECX_WORKFLOW_FIXTURE}`);
	assert.match(output, /Successfully imported 1 workflow/, output);
	output = await n8nCli('update:workflow', `--id=${THREECX_WORKFLOW_ID}`, '--active=true');
	assert.match(output, new RegExp(`Activating workflow with ID: ${THREECX_WORKFLOW_ID}`), output);
	log(`3CX integration ${integration.id} created (HMAC on); 3CX credential and workflow imported and activated`);
	return integration;
}

/**
 * After the round trip, FROM has written to the instance, so the conversation window is open: 3CX's
 * call report reaches n8n, the 3CX node posts missed_call (signed), and the gateway sends the template.
 */
async function threecxMissedCallStep({ n8n, n8nUrl, gatewayDb, gatewayEnv, integration }) {
	await waitFor('n8n to activate the 3CX workflow', 30_000, () => /Activated workflow "WhatsApp Gateway e2e: 3CX missed call"/.test(n8n.output), [n8n]);
	const callReport = { CallType: 'Missed', Number: FROM, Agent: '101', QueueExtension: '800', CallStartTimeUTC: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), CallId: 'e2e-call-1' };
	const answer = await http('POST', `${n8nUrl}/webhook/e2e-3cx-call-report`, { body: callReport });
	assert.equal(answer.status, 200, answer.text);
	assert.equal(answer.json.event_type, 'missed_call', answer.text);
	assert.equal(answer.json.action, 'sent', answer.text);
	const [reply] = queryDb(gatewayDb,
		`SELECT id, source, phone, message_text, message_purpose, status FROM message_log WHERE source = '3cx' ORDER BY id`);
	assert.ok(reply, 'the template reply is in the message log');
	assert.equal(reply.status, 'sent');
	assert.equal(reply.phone, FROM);
	assert.equal(reply.message_purpose, 'support');
	assert.match(reply.message_text, new RegExp(`${THREECX_BUSINESS_NAME}.*Sorry we missed your call`));
	assert.equal(reply.id, answer.json.log_id);
	const { stdout } = await run(process.execPath, [GATEWAY_BIN, '3cx', 'show', String(integration.id), '--json'], gatewayEnv);
	const events = JSON.parse(stdout).recent_events;
	assert.deepEqual(events.map((event) => [event.event_type, event.action, event.external_message_id]), [['missed_call', 'sent', 'e2e-call-1']]);
	log(`3CX node posted missed_call; template reply logged (log_id ${reply.id})`);
}

async function main() {
	checkPrerequisites();
	tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-n8n-e2e-'));
	log(`n8n ${require(path.join(N8N_CACHE, 'node_modules/n8n/package.json')).version} from ${N8N_CACHE}; temp folder ${tmp}`);

	// 1. The gateway, on a fresh data folder: its first start prints the API key.
	const gatewayDataDir = path.join(tmp, 'gateway-data');
	fs.mkdirSync(gatewayDataDir);
	const gatewayEnv = {
		...baseEnv(),
		PORT: '0',
		HOST: '127.0.0.1',
		GATEWAY_DATA_DIR: gatewayDataDir,
		GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
		GATEWAY_PROVIDER: 'sandbox',
		// No delivered/read reports during the test: the reply stays "sent".
		GATEWAY_SANDBOX_STATUS_DELAY_MS: '3600000',
		GATEWAY_LOG_LEVEL: 'info',
	};
	const gateway = startProcess('gateway', process.execPath, [GATEWAY_BIN, 'serve'], gatewayEnv);
	const { gatewayPort, apiKey } = await waitFor('the gateway to listen and print its API key', 30_000, () => {
		const key = /API key:\s+(wg_live_\S+)/.exec(gateway.output);
		const listening = gateway.output
			.split('\n')
			.map((line) => {
				try {
					return JSON.parse(line);
				} catch {
					return undefined;
				}
			})
			.find((entry) => entry && entry.msg === 'gateway listening');
		return key && listening ? { gatewayPort: listening.port, apiKey: key[1] } : undefined;
	}, [gateway]);
	const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
	log(`gateway listening on ${gatewayUrl}`);
	const auth = { Authorization: `Bearer ${apiKey}` };

	// 2. n8n: its own user folder, the package as a custom extension, no telemetry or outside calls.
	const n8nPort = await freePort();
	const n8nUrl = `http://127.0.0.1:${n8nPort}`;
	const n8nUserFolder = path.join(tmp, 'n8n-user');
	fs.mkdirSync(n8nUserFolder);
	const n8nEnv = {
		...baseEnv(),
		N8N_USER_FOLDER: n8nUserFolder,
		N8N_CUSTOM_EXTENSIONS: prepareCustomExtensions(),
		N8N_PORT: String(n8nPort),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_HOST: '127.0.0.1',
		N8N_PROTOCOL: 'http',
		WEBHOOK_URL: `${n8nUrl}/`,
		N8N_SECURE_COOKIE: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
		DB_TYPE: 'sqlite',
		DB_SQLITE_POOL_SIZE: '2',
		N8N_RUNNERS_ENABLED: 'false',
		N8N_BLOCK_ENV_ACCESS_IN_NODE: 'true',
		N8N_GIT_NODE_DISABLE_BARE_REPOS: 'true',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_DYNAMIC_BANNERS_ENABLED: 'false',
		N8N_COMMUNITY_PACKAGES_ENABLED: 'false',
		N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
		N8N_AI_ENABLED: 'false',
		EXTERNAL_FRONTEND_HOOKS_URLS: '',
		N8N_LOG_LEVEL: 'info',
		N8N_LOG_OUTPUT: 'console',
		EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'all',
	};

	// 3. Credential and workflow through the n8n CLI (import:credentials encrypts a plain `data` object).
	const credentialFile = path.join(tmp, 'credentials.json');
	fs.writeFileSync(credentialFile, JSON.stringify([
		{
			id: CREDENTIAL_ID,
			name: 'WhatsApp Gateway (e2e)',
			type: 'whatsAppGatewayApi',
			data: { baseUrl: gatewayUrl, apiKey },
		},
	], null, 2));
	const n8nCli = async (...args) => {
		const { stdout, stderr } = await run(process.execPath, [N8N_BIN, ...args], n8nEnv);
		return `${stdout}${stderr}`;
	};
	let output = await n8nCli('import:credentials', `--input=${credentialFile}`);
	assert.match(output, /Successfully imported 1 credential/, output);
	output = await n8nCli('import:workflow', `--input=${WORKFLOW_FIXTURE}`);
	assert.match(output, /Successfully imported 1 workflow/, output);
	output = await n8nCli('update:workflow', `--id=${WORKFLOW_ID}`, '--active=true');
	assert.match(output, new RegExp(`Activating workflow with ID: ${WORKFLOW_ID}`), output);
	assert.doesNotMatch(output, /Error updating database/, output);
	log('credential and workflow imported, workflow activated (n8n CLI)');
	const threecxIntegration = await prepareThreecx({ gatewayUrl, gatewayEnv, n8nCli });

	// 4. n8n starts, activates the workflow, and the trigger subscribes itself at the gateway.
	const n8n = startProcess('n8n', process.execPath, [N8N_BIN, 'start'], n8nEnv);
	const webhookNode = JSON.parse(fs.readFileSync(WORKFLOW_FIXTURE, 'utf8'))[0].nodes.find(
		(node) => node.type === 'CUSTOM.whatsAppGatewayTrigger',
	);
	const webhookUrl = `${n8nUrl}/webhook/${webhookNode.webhookId}/webhook`;
	const subscription = await waitFor('the trigger to subscribe at the gateway', N8N_START_TIMEOUT_MS, async () => {
		const { status, json } = await http('GET', `${gatewayUrl}/api/webhooks`, { headers: auth });
		assert.equal(status, 200);
		return json.webhooks.find((webhook) => webhook.destination_url === webhookUrl);
	}, [gateway, n8n]);
	await waitFor('n8n to answer on its port', 30_000, async () => (await http('GET', `${n8nUrl}/healthz`)).status === 200, [n8n]);
	assert.deepEqual(subscription.events, ['message.received']);
	assert.equal(subscription.enabled, true);
	// n8n prints the line once every workflow is activated, which can be after the trigger subscribed.
	await waitFor('n8n to report the workflow activated', 30_000, () => /Activated workflow "WhatsApp Gateway e2e: reply to inbound messages"/.test(n8n.output), [n8n]);
	log(`n8n up on ${n8nUrl}; subscription ${subscription.id} → ${webhookUrl}`);

	// 5. An unsigned POST to the trigger's webhook: 401, and no execution.
	const unsigned = await http('POST', webhookUrl, {
		body: { event: 'message.received', instance_id: subscription.instance_id, from: FROM, message_text: 'forged' },
	});
	assert.equal(unsigned.status, 401, `unsigned POST answered ${unsigned.status}: ${unsigned.text}`);
	assert.equal(unsigned.json && unsigned.json.error, 'invalid_signature', unsigned.text);
	log('unsigned POST to the webhook answered 401 invalid_signature');

	// 6. A WhatsApp user writes to the sandbox instance (the CLI works on the same database).
	const inbound = await run(process.execPath, [
		GATEWAY_BIN, 'sandbox', 'inbound', '--instance', 'demo-support-line', '--from', FROM, '--text', INBOUND_TEXT, '--json',
	], gatewayEnv);
	const inboundResult = JSON.parse(inbound.stdout);
	assert.equal(inboundResult.duplicate, false);
	assert.equal(inboundResult.event_ids.length, 1, inbound.stdout);
	const [eventId] = inboundResult.event_ids;
	log(`inbound message simulated (event ${eventId})`);

	// 7. The reply arrives in the message log: sent by the n8n node through the API.
	const gatewayDb = path.join(gatewayDataDir, 'gateway.db');
	const reply = await waitFor('the reply in the gateway message log', ROUND_TRIP_TIMEOUT_MS, () =>
		queryDb(gatewayDb,
			`SELECT id, source, phone, message_text, message_purpose, status, idempotency_key
			   FROM message_log WHERE phone = ? ORDER BY id`, FROM)[0],
	[gateway, n8n]);
	log(`reply logged (log_id ${reply.id}, status ${reply.status})`);
	assert.equal(reply.status, 'sent');
	assert.equal(reply.source, 'api');
	assert.equal(reply.message_purpose, 'support');
	assert.equal(reply.message_text, EXPECTED_REPLY);
	assert.match(reply.idempotency_key, /^n8n:/, 'the node derives an idempotency key from the execution');
	const viaApi = await http('GET', `${gatewayUrl}/api/messages/${reply.id}`, { headers: auth });
	assert.equal(viaApi.status, 200, viaApi.text);
	assert.equal(viaApi.json.message.status, 'sent');
	assert.equal(viaApi.json.message.phone, FROM);
	assert.equal(viaApi.json.message.message_purpose, 'support');
	assert.equal(viaApi.json.message.instance_id, subscription.instance_id);

	// 8. The delivery to n8n succeeded (2xx at the first attempt) …
	const delivery = await waitFor('the delivery to be marked succeeded', 15_000, async () => {
		const { stdout } = await run(process.execPath, [GATEWAY_BIN, 'deliveries', 'list', '--json'], gatewayEnv);
		const found = JSON.parse(stdout).find((entry) => entry.event_id === eventId);
		return found && found.status !== 'pending' ? found : undefined;
	}, [gateway]);
	assert.equal(delivery.status, 'succeeded', JSON.stringify(delivery));
	assert.equal(delivery.webhook_id, subscription.id);
	assert.equal(delivery.attempts, 1, JSON.stringify(delivery));
	assert.equal(delivery.last_status_code, 200);

	// … and n8n ran the workflow exactly once (the unsigned POST started nothing), successfully.
	const n8nDb = path.join(n8nUserFolder, '.n8n/database.sqlite');
	const executions = await waitFor('n8n to record the execution', 15_000, () => {
		const rows = queryDb(n8nDb, 'SELECT id, status, mode, finished FROM execution_entity WHERE workflowId = ?', WORKFLOW_ID);
		return rows.length > 0 && rows.every((row) => row.status !== 'running' && row.status !== 'new') ? rows : undefined;
	}, [n8n]);
	assert.equal(executions.length, 1, JSON.stringify(executions));
	assert.equal(executions[0].status, 'success', JSON.stringify(executions));
	assert.equal(executions[0].mode, 'webhook');
	const allMessages = queryDb(gatewayDb, 'SELECT COUNT(*) AS n FROM message_log')[0].n;
	assert.equal(allMessages, 1, 'exactly one message (the reply) in the log');
	log(`delivery ${delivery.id} succeeded; n8n execution ${executions[0].id} ${executions[0].status}`);

	await threecxMissedCallStep({ n8n, n8nUrl, gatewayDb, gatewayEnv, integration: threecxIntegration });
}

/** n8n first (it may still talk to the gateway while it shuts down), then the gateway. */
async function shutdown() {
	for (const proc of children.slice().reverse()) await stopProcess(proc);
}

function printLogs() {
	for (const proc of children) {
		const lines = proc.output.split('\n');
		const shown = lines.slice(-200).join('\n');
		process.stderr.write(`\n===== ${proc.name} log (${proc.logFile}${lines.length > 200 ? ', last 200 lines' : ''}) =====\n${shown}\n`);
	}
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
	process.once(signal, () => {
		interrupted = true;
		log(`${signal}: stopping gateway and n8n`);
		void shutdown().then(() => process.exit(130));
	});
}

main().then(
	async () => {
		await shutdown();
		if (!process.env.E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
		log('PASS: inbound → signed delivery → WhatsApp Gateway Trigger → WhatsApp Gateway node → reply logged; 3CX node → missed-call template logged');
	},
	async (error) => {
		if (interrupted) return;
		process.stderr.write(`\nFAIL: ${error && error.stack ? error.stack : error}\n`);
		await shutdown();
		printLogs();
		if (tmp) process.stderr.write(`\nTemporary files kept in ${tmp}\n`);
		process.exitCode = 1;
	},
);
