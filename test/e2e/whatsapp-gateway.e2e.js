#!/usr/bin/env node
/**
 * End-to-end tests in a real n8n (the pinned version in test/e2e/n8n/, installed by `npm run e2e:install`
 * into .cache/n8n-e2e/), with the package installed from its `npm pack` tarball the two ways docs/n8n.md
 * describes, each against its own gateway (`server/bin/whatsapp-gateway.js serve`, temporary data folder):
 *
 * 1. N8N_CUSTOM_EXTENSIONS pointing at the unpacked tarball: sandbox inbound message → gateway signs and
 *    delivers message.received → WhatsApp Gateway Trigger → WhatsApp Gateway node (Send Message) → the reply
 *    in the gateway's log (test/e2e/fixtures/reply-workflow.json); an unsigned POST gets 401 and starts nothing.
 * 2. `npm install --omit=peer <tarball>` in n8n's nodes folder: every workflow in examples/ imported with
 *    `n8n import:workflow --separate`, activated and run (reply, opt-out alert, order shipped, invoice PDF),
 *    and a redelivery of an event the trigger already emitted starts no second execution.
 *
 * Run with `npm run test:e2e` (install, build, this script) or `node test/e2e/whatsapp-gateway.e2e.js`
 * after `npm run e2e:install && npm run build`. Exits 0 when everything holds, 1 otherwise, printing every
 * process's log on failure. E2E_KEEP=1 keeps the temporary folder; N8N_E2E_CACHE moves the n8n install.
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
// The 3CX step: a 3CX node in n8n reports a missed call of the customer who wrote first (FROM).
const THREECX_WORKFLOW_FIXTURE = path.join(__dirname, 'fixtures/threecx-missed-call-workflow.json');
const THREECX_CREDENTIAL_ID = 'WaGateway3cxE2eCred';
const THREECX_WORKFLOW_ID = 'WaGateway3cxE2eFlow';
const THREECX_BUSINESS_NAME = 'E2E Clinic';
const EXAMPLES_DIR = path.join(ROOT, 'examples');

const ADMIN_TOKEN = 'e2e-operator-token-0123456789abcdef';
const CREDENTIAL_ID = 'WaGatewayE2eCred';
const WORKFLOW_ID = 'WaGatewayE2eFlow';
const TEST_MODE_WORKFLOW_ID = 'WaGatewayTestMode';
const TEST_MODE_WEBHOOK_ID = '3e9a1c55-8d2b-4f6e-a0c7-9b4d2e6f1a38';
const FROM = '+966501234567';
const INBOUND_TEXT = 'Hello from the e2e test';
const EXPECTED_REPLY = `Thanks, we got: ${INBOUND_TEXT}`;

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
			throw new Error(
				`timed out after ${timeoutMs / 1000} s waiting for ${description}` +
					(lastError ? ` (last error: ${lastError.message})` : ''),
			);
		}
		await sleep(250);
	}
}

/** Runs a short command to completion; rejects with its output when it fails. */
function run(command, args, env = baseEnv(), cwd = tmp) {
	return new Promise((resolve, reject) => {
		execFile(command, args, { cwd, env, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
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
		'server/dist/cli/main.js',
	]) {
		if (!fs.existsSync(path.join(ROOT, file))) throw new Error(`${file} is missing: run \`npm run build\` first`);
	}
}

/**
 * `npm pack` of the repository root: the package exactly as it would be published (docs/n8n.md, "Install
 * the nodes", starts from this tarball).
 */
async function packTarball() {
	const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', tmp, ROOT], npmEnv());
	const [packed] = JSON.parse(stdout);
	const tarball = path.join(tmp, packed.filename);
	assert.ok(fs.existsSync(tarball), `npm pack wrote no ${tarball}`);
	for (const file of packed.files) assert.match(file.path, /^(dist\/|README\.md$|LICENSE$|package\.json$)/, file.path);
	return tarball;
}

/** npm without the root project's settings that `npm run` passes down (legacy-peer-deps, its prefix, …). */
function npmEnv() {
	return Object.fromEntries(Object.entries(baseEnv()).filter(([name]) => !/^npm_/i.test(name)));
}

/**
 * docs/n8n.md, "N8N_CUSTOM_EXTENSIONS": the tarball unpacked into a folder (it unpacks as `package/`). n8n's
 * CustomDirectoryLoader registers every *.node.js and *.credentials.js below it, with node types prefixed
 * "CUSTOM."; `n8n-workflow` resolves from n8n's own copy (n8n puts its module paths on NODE_PATH).
 */
async function unpackForCustomExtensions(tarball) {
	const extensions = path.join(tmp, 'n8n-custom');
	fs.mkdirSync(extensions);
	await run('tar', ['-xzf', tarball, '-C', extensions]);
	assert.ok(fs.existsSync(path.join(extensions, 'package/dist/nodes/WhatsAppGateway/WhatsAppGateway.node.js')));
	return extensions;
}

/**
 * docs/n8n.md, "~/.n8n/nodes": npm installs the tarball into n8n's nodes folder, without the peer dependency
 * (n8n provides n8n-workflow). n8n loads every n8n-nodes-* package there at start, under its published
 * type names: n8n-nodes-whatsapp-gateway.whatsAppGateway and …Trigger.
 */
async function installIntoNodesFolder(tarball, n8nUserFolder) {
	const nodesFolder = path.join(n8nUserFolder, '.n8n/nodes');
	fs.mkdirSync(nodesFolder, { recursive: true });
	await run('npm', ['install', '--omit=peer', '--no-audit', '--no-fund', tarball], npmEnv(), nodesFolder);
	const installed = path.join(nodesFolder, 'node_modules/n8n-nodes-whatsapp-gateway');
	assert.ok(fs.existsSync(path.join(installed, 'dist/nodes/WhatsAppGatewayTrigger/WhatsAppGatewayTrigger.node.js')));
	assert.ok(
		!fs.existsSync(path.join(nodesFolder, 'node_modules/n8n-workflow')),
		'the peer n8n-workflow must not be installed',
	);
	return nodesFolder;
}

/**
 * A gateway on a fresh data folder; its output is not a terminal, so its first start writes the API key to
 * first-start-credentials.txt in the data folder (never to its log).
 */
async function startGateway(name) {
	const dataDir = path.join(tmp, `${name}-data`);
	fs.mkdirSync(dataDir);
	const env = {
		...baseEnv(),
		PORT: '0',
		HOST: '127.0.0.1',
		GATEWAY_DATA_DIR: dataDir,
		GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
		GATEWAY_PROVIDER: 'sandbox',
		// No delivered/read reports during the test: replies stay "sent".
		GATEWAY_SANDBOX_STATUS_DELAY_MS: '3600000',
		GATEWAY_LOG_LEVEL: 'info',
	};
	const proc = startProcess(name, process.execPath, [GATEWAY_BIN, 'serve'], env);
	const { port, apiKey } = await waitFor(
		`${name} to listen and write its API key`,
		30_000,
		() => {
			const credentials = path.join(dataDir, 'first-start-credentials.txt');
			const key = fs.existsSync(credentials)
				? /API key:\s+(wg_live_\S+)/.exec(fs.readFileSync(credentials, 'utf8'))
				: undefined;
			const listening = proc.output
				.split('\n')
				.map((line) => {
					try {
						return JSON.parse(line);
					} catch {
						return undefined;
					}
				})
				.find((entry) => entry && entry.msg === 'gateway listening');
			return key && listening ? { port: listening.port, apiKey: key[1] } : undefined;
		},
		[proc],
	);
	const url = `http://127.0.0.1:${port}`;
	const cli = async (...args) =>
		JSON.parse((await run(process.execPath, [GATEWAY_BIN, ...args, '--json'], env)).stdout);
	const messages = (where = '1 = 1', ...params) =>
		queryDb(
			path.join(dataDir, 'gateway.db'),
			`SELECT id, source, phone, message_text, message_purpose, message_type, status, error_code, idempotency_key
			   FROM message_log WHERE ${where} ORDER BY id`,
			...params,
		);
	log(`${name} listening on ${url}`);
	return { proc, url, apiKey, env, dataDir, cli, messages, auth: { Authorization: `Bearer ${apiKey}` } };
}

/** n8n on its own user folder and port, with no telemetry and no outside calls. */
async function prepareN8n(name, extraEnv) {
	const port = await freePort();
	const url = `http://127.0.0.1:${port}`;
	const userFolder = path.join(tmp, `${name}-user`);
	fs.mkdirSync(userFolder);
	const env = {
		...baseEnv(),
		N8N_USER_FOLDER: userFolder,
		N8N_PORT: String(port),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_HOST: '127.0.0.1',
		N8N_PROTOCOL: 'http',
		WEBHOOK_URL: `${url}/`,
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
		N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
		N8N_AI_ENABLED: 'false',
		EXTERNAL_FRONTEND_HOOKS_URLS: '',
		N8N_LOG_LEVEL: 'info',
		N8N_LOG_OUTPUT: 'console',
		EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'all',
		...extraEnv,
	};
	const cli = async (...args) => {
		const { stdout, stderr } = await run(process.execPath, [N8N_BIN, ...args], env);
		return `${stdout}${stderr}`;
	};
	const importCredential = async (id, credentialName, gateway) => {
		const file = path.join(tmp, `${name}-credentials.json`);
		fs.writeFileSync(
			file,
			JSON.stringify(
				[
					{
						id,
						name: credentialName,
						type: 'whatsAppGatewayApi',
						data: { baseUrl: gateway.url, apiKey: gateway.apiKey },
					},
				],
				null,
				2,
			),
		);
		const output = await cli('import:credentials', `--input=${file}`);
		assert.match(output, /Successfully imported 1 credential/, output);
	};
	const db = path.join(userFolder, '.n8n/database.sqlite');
	const executions = (workflowId) =>
		queryDb(db, 'SELECT id, status, mode, finished FROM execution_entity WHERE workflowId = ? ORDER BY id', workflowId);
	const start = () => startProcess(name, process.execPath, [N8N_BIN, 'start'], env);
	return { url, userFolder, env, cli, importCredential, db, executions, start };
}

/** Waits until every execution of the workflow has finished, and returns them. */
function finishedExecutions(n8n, workflowId, count, watch) {
	return waitFor(
		`${count} finished execution(s) of ${workflowId}`,
		30_000,
		() => {
			const rows = n8n.executions(workflowId);
			return rows.length >= count && rows.every((row) => row.status !== 'running' && row.status !== 'new')
				? rows
				: undefined;
		},
		watch,
	);
}

/**
 * 1. n8n with N8N_CUSTOM_EXTENSIONS: the round trip of test/e2e/fixtures/reply-workflow.json (types
 * CUSTOM.*), an unsigned POST refused, exactly one execution.
 */
async function customExtensionsRoundTrip(tarball) {
	const gateway = await startGateway('gateway-1');
	const n8n = await prepareN8n('n8n-1', {
		N8N_CUSTOM_EXTENSIONS: await unpackForCustomExtensions(tarball),
		N8N_COMMUNITY_PACKAGES_ENABLED: 'false',
	});
	await n8n.importCredential(CREDENTIAL_ID, 'WhatsApp Gateway (e2e)', gateway);
	let output = await n8n.cli('import:workflow', `--input=${WORKFLOW_FIXTURE}`);
	assert.match(output, /Successfully imported 1 workflow/, output);
	output = await n8n.cli('update:workflow', `--id=${WORKFLOW_ID}`, '--active=true');
	assert.match(output, new RegExp(`Activating workflow with ID: ${WORKFLOW_ID}`), output);
	assert.doesNotMatch(output, /Error updating database/, output);
	log('[custom extensions] credential and workflow imported, workflow activated (n8n CLI)');
	const threecxIntegration = await prepareThreecx({ gateway, n8n });

	const proc = n8n.start();
	const webhookNode = JSON.parse(fs.readFileSync(WORKFLOW_FIXTURE, 'utf8'))[0].nodes.find(
		(node) => node.type === 'CUSTOM.whatsAppGatewayTrigger',
	);
	const webhookUrl = `${n8n.url}/webhook/${webhookNode.webhookId}/webhook`;
	const subscription = await waitFor(
		'the trigger to subscribe at the gateway',
		N8N_START_TIMEOUT_MS,
		async () => {
			const { status, json } = await http('GET', `${gateway.url}/api/webhooks`, { headers: gateway.auth });
			assert.equal(status, 200);
			return json.webhooks.find((webhook) => webhook.destination_url === webhookUrl);
		},
		[gateway.proc, proc],
	);
	await waitFor(
		'n8n to answer on its port',
		30_000,
		async () => (await http('GET', `${n8n.url}/healthz`)).status === 200,
		[proc],
	);
	assert.deepEqual(subscription.events, ['message.received']);
	assert.equal(subscription.enabled, true);
	// n8n logs the activation just after the trigger's create() returned.
	await waitFor(
		'n8n to report the activation',
		30_000,
		() => /Activated workflow "WhatsApp Gateway e2e: reply to inbound messages"/.test(proc.output),
		[proc],
	);
	log(`[custom extensions] n8n up on ${n8n.url}; subscription ${subscription.id} → ${webhookUrl}`);

	// An unsigned POST to the trigger's webhook: 401, and no execution.
	const unsigned = await http('POST', webhookUrl, {
		body: { event: 'message.received', instance_id: subscription.instance_id, from: FROM, message_text: 'forged' },
	});
	assert.equal(unsigned.status, 401, `unsigned POST answered ${unsigned.status}: ${unsigned.text}`);
	assert.equal(unsigned.json && unsigned.json.error, 'invalid_signature', unsigned.text);
	log('[custom extensions] unsigned POST to the webhook answered 401 invalid_signature');

	// A WhatsApp user writes to the sandbox instance (the CLI works on the same database).
	const inboundResult = await gateway.cli(
		'sandbox',
		'inbound',
		'--instance',
		'demo-support-line',
		'--from',
		FROM,
		'--text',
		INBOUND_TEXT,
	);
	assert.equal(inboundResult.duplicate, false);
	assert.equal(inboundResult.event_ids.length, 1, JSON.stringify(inboundResult));
	const [eventId] = inboundResult.event_ids;

	// The reply arrives in the message log: sent by the n8n node through the API.
	const reply = await waitFor(
		'the reply in the gateway message log',
		ROUND_TRIP_TIMEOUT_MS,
		() => gateway.messages('phone = ?', FROM)[0],
		[gateway.proc, proc],
	);
	log(`[custom extensions] reply logged (log_id ${reply.id}, status ${reply.status})`);
	assert.equal(reply.status, 'sent');
	assert.equal(reply.source, 'api');
	assert.equal(reply.message_purpose, 'support');
	assert.equal(reply.message_text, EXPECTED_REPLY);
	assert.match(reply.idempotency_key, /^n8n:/, 'the node derives an idempotency key from the execution');
	const viaApi = await http('GET', `${gateway.url}/api/messages/${reply.id}`, { headers: gateway.auth });
	assert.equal(viaApi.status, 200, viaApi.text);
	assert.equal(viaApi.json.message.status, 'sent');
	assert.equal(viaApi.json.message.phone, FROM);
	assert.equal(viaApi.json.message.message_purpose, 'support');
	assert.equal(viaApi.json.message.instance_id, subscription.instance_id);

	// The delivery to n8n succeeded (2xx at the first attempt) …
	const delivery = await waitFor(
		'the delivery to be marked succeeded',
		15_000,
		async () => {
			const found = (await gateway.cli('deliveries', 'list')).find((entry) => entry.event_id === eventId);
			return found && found.status !== 'pending' ? found : undefined;
		},
		[gateway.proc],
	);
	assert.equal(delivery.status, 'succeeded', JSON.stringify(delivery));
	assert.equal(delivery.webhook_id, subscription.id);
	assert.equal(delivery.attempts, 1, JSON.stringify(delivery));
	assert.equal(delivery.last_status_code, 200);

	// … and n8n ran the workflow exactly once (the unsigned POST started nothing), successfully.
	const executions = await finishedExecutions(n8n, WORKFLOW_ID, 1, [proc]);
	assert.equal(executions.length, 1, JSON.stringify(executions));
	assert.equal(executions[0].status, 'success', JSON.stringify(executions));
	assert.equal(executions[0].mode, 'webhook');
	assert.equal(gateway.messages().length, 1, 'exactly one message (the reply) in the log');
	log(
		`[custom extensions] delivery ${delivery.id} succeeded; n8n execution ${executions[0].id} ${executions[0].status}`,
	);

	await threecxMissedCallStep({ proc, n8n, gateway, integration: threecxIntegration });

	await stopProcess(proc);
	await stopProcess(gateway.proc);
}

/**
 * Before n8n starts: a 3CX integration on the demo instance (with an HMAC secret, so n8n signs), the 3CX
 * credential holding its secrets, and the missed-call workflow, imported and activated with the n8n CLI.
 */
async function prepareThreecx({ gateway, n8n }) {
	const integration = await gateway.cli(
		'3cx',
		'create',
		'--account',
		'1',
		'--instance',
		'demo-support-line',
		'--business-name',
		THREECX_BUSINESS_NAME,
		'--generate-hmac-secret',
	);
	assert.match(integration.secret, /^tcx_/);
	const credentialFile = path.join(tmp, 'threecx-credentials.json');
	fs.writeFileSync(
		credentialFile,
		JSON.stringify(
			[
				{
					id: THREECX_CREDENTIAL_ID,
					name: 'WhatsApp Gateway 3CX (e2e)',
					type: 'whatsAppGateway3CxApi',
					data: {
						baseUrl: gateway.url,
						integrationId: integration.id,
						webhookSecret: integration.secret,
						hmacSecret: integration.hmac_secret,
					},
				},
			],
			null,
			2,
		),
	);
	let output = await n8n.cli('import:credentials', `--input=${credentialFile}`);
	assert.match(output, /Successfully imported 1 credential/, output);
	output = await n8n.cli('import:workflow', `--input=${THREECX_WORKFLOW_FIXTURE}`);
	assert.match(output, /Successfully imported 1 workflow/, output);
	output = await n8n.cli('update:workflow', `--id=${THREECX_WORKFLOW_ID}`, '--active=true');
	assert.match(output, new RegExp(`Activating workflow with ID: ${THREECX_WORKFLOW_ID}`), output);
	log(
		`[custom extensions] 3CX integration ${integration.id} created (HMAC on); 3CX credential and workflow imported and activated`,
	);
	return integration;
}

/**
 * After the round trip, FROM has written to the instance, so the conversation window is open: 3CX's
 * call report reaches n8n, the 3CX node posts missed_call (signed), and the gateway sends the template.
 */
async function threecxMissedCallStep({ proc, n8n, gateway, integration }) {
	await waitFor(
		'n8n to activate the 3CX workflow',
		30_000,
		() => /Activated workflow "WhatsApp Gateway e2e: 3CX missed call"/.test(proc.output),
		[proc],
	);
	const callReport = {
		CallType: 'Missed',
		Number: FROM,
		Agent: '101',
		QueueExtension: '800',
		CallStartTimeUTC: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
		CallId: 'e2e-call-1',
	};
	const answer = await http('POST', `${n8n.url}/webhook/e2e-3cx-call-report`, { body: callReport });
	assert.equal(answer.status, 200, answer.text);
	assert.equal(answer.json.event_type, 'missed_call', answer.text);
	assert.equal(answer.json.action, 'sent', answer.text);
	const [reply] = queryDb(
		path.join(gateway.dataDir, 'gateway.db'),
		`SELECT account_seq AS log_id, source, phone, message_text, message_purpose, status FROM message_log WHERE source = '3cx' ORDER BY id`,
	);
	assert.ok(reply, 'the template reply is in the message log');
	assert.equal(reply.status, 'sent');
	assert.equal(reply.phone, FROM);
	assert.equal(reply.message_purpose, 'support');
	assert.match(reply.message_text, new RegExp(`${THREECX_BUSINESS_NAME}.*Sorry we missed your call`));
	assert.equal(reply.log_id, answer.json.log_id);
	const shown = await gateway.cli('3cx', 'show', String(integration.id));
	assert.deepEqual(
		shown.recent_events.map((event) => [event.event_type, event.action, event.external_message_id]),
		[['missed_call', 'sent', 'e2e-call-1']],
	);
	log(`[custom extensions] 3CX node posted missed_call; template reply logged (log_id ${reply.log_id})`);
}

/** A loopback server standing in for the shop's invoice storage (the invoice example downloads from it). */
async function startInvoiceServer() {
	const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
	const server = require('node:http').createServer((req, res) => {
		if (req.url === '/invoices/INV-2041.pdf') res.writeHead(200, { 'Content-Type': 'application/pdf' }).end(pdf);
		else res.writeHead(404).end();
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${server.address().port}`,
		close: () => new Promise((resolve) => server.close(resolve)),
	};
}

/**
 * 2. n8n with the package installed into its nodes folder: every workflow of examples/ imported with
 * `n8n import:workflow --separate --input=examples/`, activated, and run:
 *   - reply to inbound messages (and a redelivery of the same event starts nothing: the trigger's dedup),
 *   - opt-out alert to the team (STOP from a customer),
 *   - order shipped (n8n webhook; the same order twice sends once),
 *   - send an invoice PDF (n8n webhook → HTTP Request file → document).
 */
async function nodesFolderExamples(tarball) {
	const gateway = await startGateway('gateway-2');
	const n8n = await prepareN8n('n8n-2', {});
	await installIntoNodesFolder(tarball, path.join(n8n.userFolder));
	log('[nodes folder] npm install --omit=peer <tarball> in <N8N_USER_FOLDER>/.n8n/nodes');
	// The examples name their credential "WhatsApp Gateway account" without an id: import finds it by name.
	await n8n.importCredential('WaGatewayExampleCred', 'WhatsApp Gateway account', gateway);
	let output = await n8n.cli('import:workflow', '--separate', `--input=${EXAMPLES_DIR}`);
	const exampleFiles = fs.readdirSync(EXAMPLES_DIR).filter((file) => file.endsWith('.json'));
	assert.match(output, new RegExp(`Successfully imported ${exampleFiles.length} workflows`), output);
	const workflows = Object.fromEntries(
		queryDb(n8n.db, 'SELECT id, name, nodes FROM workflow_entity').map((row) => [row.name, row]),
	);
	for (const file of exampleFiles) {
		const example = JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8'));
		const imported = workflows[example.name];
		assert.ok(imported, `${file} was not imported`);
		for (const node of JSON.parse(imported.nodes)) {
			if (!node.type.startsWith('n8n-nodes-whatsapp-gateway.')) continue;
			assert.equal(
				node.credentials.whatsAppGatewayApi.id,
				'WaGatewayExampleCred',
				`${file}: ${node.name} got no credential`,
			);
		}
	}
	output = await n8n.cli('update:workflow', '--all', '--active=true');
	assert.doesNotMatch(output, /Error/, output);
	const id = (name) => workflows[`WhatsApp Gateway: ${name}`].id;
	log(`[nodes folder] ${exampleFiles.length} examples imported and activated: ${exampleFiles.join(', ')}`);
	// For the Trigger's test mode: a copy of the reply example, left inactive, with its own webhook id.
	const testModeFile = path.join(tmp, 'test-mode-workflow.json');
	const testMode = JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, 'reply-to-inbound-messages.json'), 'utf8'));
	Object.assign(testMode, { id: TEST_MODE_WORKFLOW_ID, name: 'WhatsApp Gateway: test mode', active: false });
	testMode.nodes.find((node) => node.type === 'n8n-nodes-whatsapp-gateway.whatsAppGatewayTrigger').webhookId =
		TEST_MODE_WEBHOOK_ID;
	fs.writeFileSync(testModeFile, JSON.stringify(testMode));
	output = await n8n.cli('import:workflow', `--input=${testModeFile}`);
	assert.match(output, /Successfully imported 1 workflow/, output);

	const proc = n8n.start();
	const subscriptions = await waitFor(
		'both example triggers to subscribe at the gateway',
		N8N_START_TIMEOUT_MS,
		async () => {
			const { json } = await http('GET', `${gateway.url}/api/webhooks`, { headers: gateway.auth });
			return json.webhooks.length === 2 ? json.webhooks : undefined;
		},
		[gateway.proc, proc],
	);
	await waitFor(
		'n8n to answer on its port',
		30_000,
		async () => (await http('GET', `${n8n.url}/healthz`)).status === 200,
		[proc],
	);
	assert.deepEqual(subscriptions.map((webhook) => webhook.events.join(',')).sort(), [
		'message.received',
		'recipient.opted_out',
	]);
	for (const file of exampleFiles) {
		const { name } = JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8'));
		await waitFor(`n8n to activate "${name}"`, 30_000, () => proc.output.includes(`Activated workflow "${name}"`), [
			proc,
		]);
	}
	log(`[nodes folder] n8n up on ${n8n.url} with the published node types; triggers subscribed`);

	// Reply to inbound messages.
	const hello = await gateway.cli(
		'sandbox',
		'inbound',
		'--instance',
		'demo-support-line',
		'--from',
		FROM,
		'--text',
		INBOUND_TEXT,
	);
	const reply = await waitFor(
		'the example reply',
		ROUND_TRIP_TIMEOUT_MS,
		() => gateway.messages('phone = ?', FROM)[0],
		[gateway.proc, proc],
	);
	assert.equal(reply.status, 'sent');
	assert.equal(reply.message_purpose, 'support');
	assert.equal(
		reply.message_text,
		`Thanks, we got your message: "${INBOUND_TEXT}". Our team answers within one working day.`,
	);
	assert.equal(reply.idempotency_key, `${hello.event_ids[0]}-reply`);
	await finishedExecutions(n8n, id('reply to inbound messages'), 1, [proc]);
	log(`[nodes folder] reply to inbound messages: reply ${reply.id} sent`);

	// The trigger's dedup: the gateway delivers the same event again (operator redelivery): 200, no execution.
	const delivered = (await gateway.cli('deliveries', 'list')).find((entry) => entry.event_id === hello.event_ids[0]);
	assert.equal(delivered.status, 'succeeded');
	await gateway.cli('deliveries', 'redeliver', String(delivered.id));
	const redelivered = await waitFor(
		'the redelivery to finish',
		15_000,
		async () => {
			const found = (await gateway.cli('deliveries', 'list')).find((entry) => entry.id === delivered.id);
			return found.status !== 'pending' ? found : undefined;
		},
		[gateway.proc],
	);
	assert.equal(redelivered.status, 'succeeded', JSON.stringify(redelivered));
	assert.equal(redelivered.last_status_code, 200);
	await sleep(1_500);
	assert.equal(
		n8n.executions(id('reply to inbound messages')).length,
		1,
		'a repeated delivery must not start the workflow again',
	);
	assert.equal(gateway.messages('phone = ?', FROM).length, 1);
	log('[nodes folder] the same delivery again: acknowledged with 200, no second execution (static data persisted)');

	// Opt-out alert to the team.
	const stopper = '+966501112233';
	await gateway.cli('sandbox', 'inbound', '--instance', 'demo-support-line', '--from', stopper, '--text', 'STOP');
	const alert = await waitFor(
		'the opt-out alert',
		ROUND_TRIP_TIMEOUT_MS,
		() => gateway.messages('phone = ?', '+966500000001')[0],
		[gateway.proc, proc],
	);
	assert.equal(alert.status, 'sent');
	assert.equal(alert.message_purpose, 'internal_team');
	assert.equal(
		alert.message_text,
		`Opt-out: ${stopper} wrote "STOP" to Demo Support Line and will receive no more messages.`,
	);
	// The reply example also saw "STOP": its reply is refused (the number is suppressed), logged as blocked,
	// and the execution still succeeds (On Error: Continue).
	const refused = await waitFor(
		'the refused reply to STOP',
		ROUND_TRIP_TIMEOUT_MS,
		() => gateway.messages('phone = ?', stopper)[0],
		[proc],
	);
	assert.equal(refused.status, 'blocked');
	assert.equal(refused.error_code, 'recipient_suppressed');
	const replyRuns = await finishedExecutions(n8n, id('reply to inbound messages'), 2, [proc]);
	assert.deepEqual(
		replyRuns.map((row) => row.status),
		['success', 'success'],
	);
	const alertRuns = await finishedExecutions(n8n, id('opt-out alert to the team'), 1, [proc]);
	assert.equal(alertRuns[0].status, 'success');
	log(
		`[nodes folder] opt-out alert to the team: alert ${alert.id} sent; the reply to STOP was refused (recipient_suppressed)`,
	);

	// Order shipped, called twice by the shop: one message.
	const customer = '+966507654321';
	const order = { order_id: '2041', customer_phone: customer, tracking_url: 'https://track.example.com/2041' };
	for (let i = 0; i < 2; i += 1) {
		const res = await http('POST', `${n8n.url}/webhook/order-shipped`, { body: order });
		assert.equal(res.status, 200, res.text);
	}
	const orderRuns = await finishedExecutions(n8n, id('order shipped notification'), 2, [proc]);
	assert.deepEqual(
		orderRuns.map((row) => row.status),
		['success', 'success'],
	);
	const notified = gateway.messages('phone = ?', customer);
	assert.equal(notified.length, 1, JSON.stringify(notified));
	assert.equal(notified[0].status, 'sent');
	assert.equal(notified[0].message_purpose, 'transactional');
	assert.equal(notified[0].message_text, 'Your order #2041 has shipped. Track it here: https://track.example.com/2041');
	assert.equal(notified[0].idempotency_key, 'order-2041-shipped');
	log(`[nodes folder] order shipped: two calls, one message (${notified[0].id}), the second replayed`);

	// Send an invoice PDF.
	const invoices = await startInvoiceServer();
	try {
		const buyer = '+966509998877';
		const res = await http('POST', `${n8n.url}/webhook/send-invoice`, {
			body: { phone: buyer, invoice_number: 'INV-2041', invoice_url: `${invoices.url}/invoices/INV-2041.pdf` },
		});
		assert.equal(res.status, 200, res.text);
		const invoiceRuns = await finishedExecutions(n8n, id('send an invoice PDF'), 1, [proc]);
		assert.equal(invoiceRuns[0].status, 'success', JSON.stringify(invoiceRuns));
		const [invoice] = gateway.messages('phone = ?', buyer);
		assert.equal(invoice.status, 'sent');
		assert.equal(invoice.message_type, 'document');
		assert.equal(invoice.message_text, 'Your invoice INV-2041 is attached.');
		assert.equal(invoice.idempotency_key, 'invoice-INV-2041');
		log(`[nodes folder] send an invoice PDF: document ${invoice.id} sent`);
	} finally {
		await invoices.close();
	}

	await triggerTestMode(gateway, n8n, proc);

	await stopProcess(proc);
	await stopProcess(gateway.proc);
}

/**
 * "Listen for test event", as the editor asks for it (POST /rest/workflows/{id}/run from the Trigger):
 * the Trigger subscribes n8n's test URL at the gateway, the event is delivered there and verified, n8n
 * runs the workflow once in manual mode and then removes the test subscription.
 */
async function triggerTestMode(gateway, n8n, proc) {
	const headers = { 'browser-id': 'wg-e2e-browser' };
	const setup = await fetch(`${n8n.url}/rest/owner/setup`, {
		method: 'POST',
		headers: { ...headers, 'Content-Type': 'application/json' },
		body: JSON.stringify({
			email: 'owner@example.com',
			firstName: 'E2e',
			lastName: 'Owner',
			password: 'E2e-owner-password-1',
		}),
	});
	assert.equal(setup.status, 200, await setup.text());
	headers.cookie = setup.headers
		.getSetCookie()
		.map((cookie) => cookie.split(';')[0])
		.join('; ');
	const workflow = await http('GET', `${n8n.url}/rest/workflows/${TEST_MODE_WORKFLOW_ID}`, { headers });
	assert.equal(workflow.status, 200, workflow.text);
	const before = (await http('GET', `${gateway.url}/api/webhooks`, { headers: gateway.auth })).json.webhooks;
	const run = await http('POST', `${n8n.url}/rest/workflows/${TEST_MODE_WORKFLOW_ID}/run`, {
		headers,
		body: { workflowData: workflow.json.data, triggerToStartFrom: { name: 'WhatsApp Gateway Trigger' } },
	});
	assert.equal(run.status, 200, run.text);
	assert.deepEqual(run.json.data, { waitingForWebhook: true });
	const testUrl = `${n8n.url}/webhook-test/${TEST_MODE_WEBHOOK_ID}/webhook`;
	const subscription = await waitFor(
		'the test subscription at the gateway',
		30_000,
		async () => {
			const { json } = await http('GET', `${gateway.url}/api/webhooks`, { headers: gateway.auth });
			return json.webhooks.find((webhook) => webhook.destination_url === testUrl);
		},
		[proc],
	);
	log(`[test mode] listening: subscription ${subscription.id} → ${testUrl}`);

	const tester = '+966503334455';
	const inbound = await gateway.cli(
		'sandbox',
		'inbound',
		'--instance',
		'demo-support-line',
		'--from',
		tester,
		'--text',
		'Testing the trigger',
	);
	const [manual] = await waitFor(
		'the manual execution',
		30_000,
		() => {
			const rows = n8n.executions(TEST_MODE_WORKFLOW_ID);
			return rows.length > 0 && rows.every((row) => row.status !== 'running' && row.status !== 'new')
				? rows
				: undefined;
		},
		[proc],
	);
	assert.equal(manual.mode, 'manual');
	assert.equal(manual.status, 'success');
	// The run started from the event: its data is what the gateway delivered (a 401 would have started nothing).
	const [{ data }] = queryDb(n8n.db, 'SELECT data FROM execution_data WHERE executionId = ?', manual.id);
	assert.ok(data.includes(inbound.event_ids[0]), 'the manual execution holds the delivered event id');
	// n8n stops listening after the event: the test subscription is gone, the production ones stay.
	const after = await waitFor(
		'the test subscription to be removed',
		30_000,
		async () => {
			const { json } = await http('GET', `${gateway.url}/api/webhooks`, { headers: gateway.auth });
			return json.webhooks.some((webhook) => webhook.id === subscription.id) ? undefined : json.webhooks;
		},
		[proc],
	);
	assert.deepEqual(after.map((webhook) => webhook.id).sort(), before.map((webhook) => webhook.id).sort());
	log(
		`[test mode] the event ran the workflow once (execution ${manual.id}, manual); the test subscription was removed`,
	);
}

async function main() {
	checkPrerequisites();
	tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-n8n-e2e-'));
	log(
		`n8n ${require(path.join(N8N_CACHE, 'node_modules/n8n/package.json')).version} from ${N8N_CACHE}; temp folder ${tmp}`,
	);
	const tarball = await packTarball();
	log(`npm pack: ${path.basename(tarball)}`);
	await customExtensionsRoundTrip(tarball);
	await nodesFolderExamples(tarball);
}

/** n8n first (it may still talk to the gateway while it shuts down), then the gateway. */
async function shutdown() {
	for (const proc of children.slice().reverse()) await stopProcess(proc);
}

function printLogs() {
	for (const proc of children) {
		const lines = proc.output.split('\n');
		const shown = lines.slice(-200).join('\n');
		process.stderr.write(
			`\n===== ${proc.name} log (${proc.logFile}${lines.length > 200 ? ', last 200 lines' : ''}) =====\n${shown}\n`,
		);
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
		log(
			'PASS: the packed tarball in n8n both ways (N8N_CUSTOM_EXTENSIONS and the nodes folder); round trip, 3CX missed-call template, trigger dedup and every example workflow',
		);
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
