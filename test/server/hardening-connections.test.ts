import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadConfig } from '../../server/src/config';
import { tempDir } from '../helpers/cli';

/** Issue 8, item 7: a connection cap, and header and request timeouts in seconds. */

describe('configuration', () => {
	it('has documented defaults: 512 connections, 10 s for headers, 30 s for the whole request', () => {
		expect(loadConfig({}).http).toEqual({ maxConnections: 512, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
		expect(
			loadConfig({
				GATEWAY_MAX_CONNECTIONS: '64',
				GATEWAY_HEADERS_TIMEOUT_SECONDS: '2.5',
				GATEWAY_REQUEST_TIMEOUT_SECONDS: '20',
			}).http,
		).toEqual({
			maxConnections: 64,
			headersTimeoutMs: 2_500,
			requestTimeoutMs: 20_000,
		});
	});

	it.each([
		[{ GATEWAY_MAX_CONNECTIONS: '0' }, /GATEWAY_MAX_CONNECTIONS/],
		[{ GATEWAY_MAX_CONNECTIONS: 'many' }, /GATEWAY_MAX_CONNECTIONS/],
		[{ GATEWAY_HEADERS_TIMEOUT_SECONDS: '0' }, /GATEWAY_HEADERS_TIMEOUT_SECONDS/],
		[{ GATEWAY_REQUEST_TIMEOUT_SECONDS: 'soon' }, /GATEWAY_REQUEST_TIMEOUT_SECONDS/],
		[
			{ GATEWAY_HEADERS_TIMEOUT_SECONDS: '40' },
			/GATEWAY_HEADERS_TIMEOUT_SECONDS must not be longer than GATEWAY_REQUEST_TIMEOUT_SECONDS/,
		],
	])('refuses %j naming the variable', (env, message) => {
		expect(() => loadConfig(env)).toThrow(message);
	});
});

describe('idle and slow connections', () => {
	let dir: string;
	let gateway: ChildProcess | undefined;
	const sockets: net.Socket[] = [];

	beforeEach(() => {
		dir = tempDir('wg-conn-');
	});
	afterEach(async () => {
		for (const socket of sockets.splice(0)) socket.destroy();
		if (gateway && gateway.exitCode === null) {
			const exited = new Promise((resolve) => gateway?.once('exit', resolve));
			gateway.kill('SIGKILL');
			await exited;
		}
		fs.rmSync(dir, { recursive: true, force: true });
	});

	/** The real gateway process, with at most 256 open files: 400 idle sockets would exhaust them. */
	async function startGateway(env: Record<string, string>): Promise<number> {
		const bin = path.resolve(__dirname, '../../server/bin/whatsapp-gateway.js');
		gateway = spawn('bash', ['-c', 'ulimit -n 256 && exec "$0" serve', bin], {
			env: { ...process.env, PORT: '0', HOST: '127.0.0.1', GATEWAY_DATA_DIR: dir, GATEWAY_LOG_LEVEL: 'info', ...env },
		});
		let stdout = '';
		return new Promise<number>((resolve, reject) => {
			gateway?.stdout?.on('data', (chunk: Buffer) => {
				stdout += chunk.toString();
				const match = /"port":(\d+)[^\n]*gateway listening/.exec(stdout);
				if (match) resolve(Number(match[1]));
			});
			gateway?.once('exit', (code) => reject(new Error(`gateway exited (${code}): ${stdout}`)));
		});
	}

	/** A connection that sends half a request line and then nothing. */
	function idleSocket(port: number): Promise<net.Socket> {
		return new Promise((resolve) => {
			const socket = net.connect(port, '127.0.0.1', () => {
				socket.write('GET / HTTP/1.1\r\nHost: gateway\r\n');
				resolve(socket);
			});
			socket.on('error', () => undefined);
			// A connection refused by a process out of file descriptors counts as opened and lost.
			socket.on('close', () => resolve(socket));
			sockets.push(socket);
		});
	}

	it('400 idle half-requests do not stop a normal request from answering', async () => {
		const port = await startGateway({ GATEWAY_MAX_CONNECTIONS: '100' });
		for (let i = 0; i < 400; i += 1) await idleSocket(port);
		const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(10_000) });
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({ success: true, status: 'ok' });
		// The cap held: the oldest idle connections were closed to make room (waits for their closes to arrive).
		const stillOpen = () => sockets.filter((socket) => !socket.closed);
		await new Promise<void>((resolve) => {
			const check = () => {
				if (stillOpen().length <= 100) resolve();
			};
			for (const socket of stillOpen()) socket.once('close', check);
			check();
		});
		expect(stillOpen().length).toBeGreaterThan(0);
	});

	it('a client that does not finish its headers is cut after GATEWAY_HEADERS_TIMEOUT_SECONDS, not after a minute', async () => {
		const port = await startGateway({ GATEWAY_HEADERS_TIMEOUT_SECONDS: '1' });
		const socket = await idleSocket(port);
		let answer = '';
		socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
		// Waits for the gateway to close it; the test's own 30 s limit is what would fail on a minute-long timeout.
		await new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));
		expect(answer).toMatch(/^HTTP\/1\.1 408/);
	});
});
