import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/src/config';

const ROOT = path.resolve(__dirname, '../..');
const UNIT = path.join(ROOT, 'deploy/whatsapp-gateway.service');

/** A unit file as systemd reads it: sections of keys, each key with every value it was given. */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
	const sections: Record<string, Record<string, string[]>> = {};
	let current: Record<string, string[]> | undefined;
	for (const raw of text.split('\n')) {
		const line = raw.trim();
		if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
		const header = /^\[(\w+)\]$/.exec(line);
		if (header) {
			current = sections[header[1]] = {};
			continue;
		}
		const pair = /^([A-Za-z]+)=(.*)$/.exec(line);
		if (!pair || !current) throw new Error(`not a unit file line: ${raw}`);
		(current[pair[1]] ??= []).push(pair[2]);
	}
	return sections;
}

const unit = parseUnit(fs.readFileSync(UNIT, 'utf8'));
const service = unit.Service;
const one = (key: string) => {
	expect(service[key]).toHaveLength(1);
	return service[key][0];
};
const environment = Object.fromEntries(
	(service.Environment ?? []).map((assignment) => assignment.split(/=(.*)/s).slice(0, 2) as [string, string]),
);

const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).stdout.trim();
// .ci/run installs systemd-analyze (Debian's systemd package); a developer machine may lack it.
const withAnalyze = analyze || process.env.CI ? it : it.skip;

interface SecurityCheck {
	name: string;
	set: boolean;
	description: string;
	exposure: string | null;
}

/** `systemd-analyze security --offline`: how systemd itself scores the sandboxing a unit file asks for. */
function security(unitFile: string, threshold: number) {
	const result = spawnSync(
		analyze,
		['security', '--offline=yes', `--threshold=${threshold}`, '--json=short', '--no-pager', unitFile],
		{ encoding: 'utf8' },
	);
	const checks = result.stdout.trim() ? (JSON.parse(result.stdout) as SecurityCheck[]) : [];
	return { status: result.status, stderr: result.stderr, checks };
}

/** A copy of the unit, changed, in a folder of its own (systemd-analyze names the unit by its file name). */
function withChangedCopy(change: (text: string) => string, use: (file: string) => void) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-unit-'));
	try {
		const file = path.join(dir, 'whatsapp-gateway.service');
		const text = fs.readFileSync(UNIT, 'utf8');
		const changed = change(text);
		expect(changed).not.toBe(text);
		fs.writeFileSync(file, changed);
		use(file);
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

/**
 * What systemd still reports as exposed, each for a reason. Everything else it checks must be in effect,
 * so dropping or weakening a directive (ProtectSystem=full for strict, say) fails the test.
 */
const ACCEPTED_EXPOSURES: Record<string, string> = {
	'SystemCallFilter=~@resources': '@system-service, the allow list for ordinary services, includes it',
	'RootDirectory=/RootImage=': 'the gateway runs from the repository on the host (/opt/whatsapp-gateway)',
	'MemoryDenyWriteExecute=': 'V8’s JIT compiler needs writable and executable memory: node would crash at start',
	'RestrictAddressFamilies=~AF_UNIX': 'local sockets stay allowed (AF_UNIX)',
	'RestrictAddressFamilies=~AF_(INET|INET6)': 'a network server that posts webhooks',
	'PrivateNetwork=': 'a network server that posts webhooks',
	'IPAddressDeny=': 'webhook destinations are customers’ URLs anywhere',
	'DeviceAllow=': 'ProtectClock= leaves read access to the RTC',
};

/** Exposure levels as systemd-analyze's --threshold counts them: tenths, 0 (none) to 100. */
const MAX_EXPOSURE = 20;

describe('deploy/whatsapp-gateway.service', () => {
	it('keeps its data in its state directory, the one place ProtectSystem=strict leaves writable', () => {
		expect(environment.GATEWAY_DATA_DIR).toBe(`/var/lib/${one('StateDirectory')}`);
		// Nothing else is opened up.
		expect(service.ReadWritePaths).toBeUndefined();
	});

	it('sets only configuration the gateway accepts', () => {
		const gatewayEnv = Object.fromEntries(
			Object.entries(environment).filter(([name]) => /^(GATEWAY_|PORT$|HOST$)/.test(name)),
		);
		expect(Object.keys(gatewayEnv).length).toBeGreaterThan(0);
		const config = loadConfig(gatewayEnv, '/');
		expect(config.dataDir).toBe('/var/lib/whatsapp-gateway');
		expect(config.logFormat).toBe('json');
	});

	it('its ExecStart, run as the unit runs it (environment, working directory), serves and stops cleanly on KillSignal', async () => {
		const workdir = one('WorkingDirectory');
		const exec = one('ExecStart');
		expect(exec).not.toMatch(/["'\\$%]/); // plain words: split on spaces as systemd would
		const [program, ...args] = exec.split(/\s+/);
		const [script] = args.slice(-2);
		expect(args.at(-1)).toBe('serve');
		// The unit runs node itself, so it spells out the flags the launcher's shebang gives node.
		const launcher = path.join(ROOT, path.relative(workdir, script));
		const flags = args.slice(0, -2).join(' ');
		expect(fs.readFileSync(launcher, 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);

		// The installation is this repository; the state directory a fresh folder with the unit's mode;
		// the port one the system picks. Everything else is the unit's own.
		const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-state-'));
		fs.chmodSync(stateDir, parseInt(one('StateDirectoryMode'), 8));
		const node = fs.existsSync(program) ? program : process.execPath;
		const child = spawn(node, [...args.slice(0, -2), launcher, 'serve'], {
			cwd: ROOT,
			env: {
				PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
				...environment,
				GATEWAY_DATA_DIR: stateDir,
				PORT: '0',
			},
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
			child.on('exit', (code, signal) => resolve({ code, signal })),
		);
		try {
			const port = await new Promise<number>((resolve, reject) => {
				// Only a guard against a gateway that never starts, not a measure of how fast it does.
				const timer = setTimeout(() => reject(new Error(`no listening line in: ${stdout}${stderr}`)), 20_000);
				const look = () => {
					const match = /"port":(\d+)[^\n]*"msg":"gateway listening"/.exec(stdout);
					if (match) {
						clearTimeout(timer);
						resolve(Number(match[1]));
					}
				};
				child.stdout.on('data', look);
				void exit.then(() => {
					clearTimeout(timer);
					reject(new Error(`exited before listening: ${stdout}${stderr}`));
				});
			});
			const ready = await fetch(`http://${environment.HOST}:${port}/readyz`);
			expect(ready.status).toBe(200);
			child.kill(one('KillSignal') as NodeJS.Signals);
			// Exit status 0: a stop, not a failure for Restart=on-failure to restart.
			expect(await exit).toEqual({ code: 0, signal: null });
			const messages = stdout
				.split('\n')
				.filter((line) => line.startsWith('{'))
				.map((line) => (JSON.parse(line) as { msg: string }).msg);
			expect(messages).toEqual(expect.arrayContaining(['gateway listening', 'stopped']));
			// The state directory's mode is one the gateway accepts for its data folder: no warning at start.
			expect(messages.filter((message) => /accessible to other users/.test(message))).toEqual([]);
			expect(stderr).toBe('');
		} finally {
			child.kill('SIGKILL');
			fs.rmSync(stateDir, { recursive: true, force: true });
		}
	});

	withAnalyze('passes systemd-analyze verify without a warning', () => {
		expect(analyze).not.toBe('');
		const result = spawnSync(analyze, ['verify', UNIT], { encoding: 'utf8' });
		expect({ status: result.status, stderr: result.stderr, stdout: result.stdout }).toEqual({
			status: 0,
			stderr: '',
			stdout: '',
		});
	});

	withAnalyze('the verification can fail: a misspelt key and a missing program are reported', () => {
		withChangedCopy(
			(text) =>
				text.replace('ProtectSystem=strict', 'ProtectSytem=strict').replace('/usr/bin/node ', '/usr/bin/no-such-node '),
			(broken) => {
				const result = spawnSync(analyze, ['verify', broken], { encoding: 'utf8' });
				expect(result.stderr).toMatch(/Unknown key 'ProtectSytem'/);
				expect(result.stderr).toMatch(/no-such-node is not executable/);
			},
		);
	});

	withAnalyze('is sandboxed as systemd scores it: low exposure, and nothing exposed but what is accepted', () => {
		const result = security(UNIT, MAX_EXPOSURE);
		expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
		expect(result.checks.length).toBeGreaterThan(50);
		const exposed = result.checks.filter((check) => !check.set).map((check) => check.name);
		expect(exposed.filter((name) => !(name in ACCEPTED_EXPOSURES))).toEqual([]);
		// And the list names only what is still exposed: a directive added later takes its entry off.
		expect(Object.keys(ACCEPTED_EXPOSURES).filter((name) => !exposed.includes(name))).toEqual([]);
		// What the unit relies on most, as systemd evaluates it.
		const effective = new Set(result.checks.filter((check) => check.set).map((check) => check.name));
		for (const name of [
			'User=/DynamicUser=',
			'NoNewPrivileges=',
			'CapabilityBoundingSet=~CAP_SYS_ADMIN',
			'ProtectSystem=',
			'ProtectHome=',
			'PrivateTmp=',
			'PrivateDevices=',
			'ProtectKernelTunables=',
			'ProtectKernelModules=',
			'ProtectControlGroups=',
			'RestrictSUIDSGID=',
			'LockPersonality=',
			'RestrictAddressFamilies=~AF_PACKET',
			'SystemCallFilter=~@privileged',
		]) {
			expect({ name, effective: effective.has(name) }).toEqual({ name, effective: true });
		}
	});

	withAnalyze(
		'the security scoring can fail: a weaker copy is reported, and without hardening it is over the threshold',
		() => {
			withChangedCopy(
				(text) => text.replace('ProtectSystem=strict', 'ProtectSystem=full').replace(/^NoNewPrivileges=yes\n/m, ''),
				(weaker) => {
					const exposed = security(weaker, MAX_EXPOSURE)
						.checks.filter((check) => !check.set)
						.map((check) => check.name);
					expect(exposed).toEqual(expect.arrayContaining(['ProtectSystem=', 'NoNewPrivileges=']));
				},
			);
			withChangedCopy(
				(text) => text.replace(/^# Hardening:[\s\S]*?^SystemCallFilter=~@privileged\n/m, ''),
				(unhardened) => {
					const result = security(unhardened, MAX_EXPOSURE);
					expect(result.checks.length).toBeGreaterThan(50);
					expect(result.status).not.toBe(0);
				},
			);
		},
	);
});

const BACKUP_UNIT = path.join(ROOT, 'deploy/whatsapp-gateway-backup.service');
const BACKUP_TIMER = path.join(ROOT, 'deploy/whatsapp-gateway-backup.timer');
const DATED_COPY = /^gateway-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.db$/;

/** What the backup unit may leave exposed: the gateway's accepted list, less what a network server needs. */
const BACKUP_ACCEPTED_EXPOSURES = [
	'SystemCallFilter=~@resources',
	'RootDirectory=/RootImage=',
	'MemoryDenyWriteExecute=',
	'RestrictAddressFamilies=~AF_UNIX',
	'DeviceAllow=',
];

/** A data folder laid out like the unit's state directory: 0700, a gateway database, owned by `uid`. */
async function stateDirectory(uid: number | undefined): Promise<string> {
	const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-state-'));
	fs.chmodSync(stateDir, parseInt(one('StateDirectoryMode'), 8));
	const { cli } = await import('../helpers/cli');
	expect((await cli(stateDir, 'accounts', 'create', '--name', 'Clinic')).code).toBe(0);
	if (uid !== undefined) {
		for (const entry of [stateDir, ...fs.readdirSync(stateDir).map((name) => path.join(stateDir, name))]) {
			fs.chownSync(entry, uid, uid);
		}
	}
	return stateDir;
}

/** Whether a user who is neither owner nor group can reach the checkout (every folder above it searchable). */
function othersCanReach(folder: string): boolean {
	for (let at = folder; ; at = path.dirname(at)) {
		if ((fs.statSync(at).mode & 0o001) === 0) return false;
		if (path.dirname(at) === at) return true;
	}
}

/**
 * Run as root (CI's containers), the commands also run as an unprivileged user, as under the unit or
 * sudo -u, when that user can reach the checkout (a clone under a 0700 `mktemp -d` folder it cannot).
 */
const UNPRIVILEGED = process.getuid?.() === 0 && othersCanReach(ROOT) ? 65534 : undefined;

describe('deploy/whatsapp-gateway-backup.service and .timer: the nightly backup', () => {
	const backup = parseUnit(fs.readFileSync(BACKUP_UNIT, 'utf8'));
	const timer = parseUnit(fs.readFileSync(BACKUP_TIMER, 'utf8'));
	const backupEnvironment = Object.fromEntries(
		(backup.Service.Environment ?? []).map((assignment) => assignment.split(/=(.*)/s).slice(0, 2) as [string, string]),
	);
	const exec = backup.Service.ExecStart[0].split(/\s+/);

	it("runs as the gateway's user, on the gateway's data folder, with its settings", () => {
		for (const key of [
			'User',
			'Group',
			'WorkingDirectory',
			'StateDirectory',
			'StateDirectoryMode',
			'EnvironmentFile',
		]) {
			expect({ key, value: backup.Service[key] }).toEqual({ key, value: service[key] });
		}
		expect(backupEnvironment.GATEWAY_DATA_DIR).toBe(environment.GATEWAY_DATA_DIR);
		expect(backup.Service.Type).toEqual(['oneshot']);
		expect(backup.Service.ExecStart).toHaveLength(1);
		// The gateway's node and launcher; then `backup --keep N <folder>` inside the state directory, the one
		// place ProtectSystem=strict leaves writable.
		const [program, launcher, command, keepFlag, keep, folder, ...rest] = exec;
		expect([program, launcher]).toEqual([one('ExecStart').split(/\s+/)[0], one('ExecStart').split(/\s+/).at(-2)]);
		expect({ command, keepFlag, rest }).toEqual({ command: 'backup', keepFlag: '--keep', rest: [] });
		expect(Number(keep)).toBeGreaterThanOrEqual(7);
		expect(folder.startsWith(`${environment.GATEWAY_DATA_DIR}/`)).toBe(true);
		expect(backup.Service.ReadWritePaths).toBeUndefined();
		// Nightly, caught up after the machine was off, enabled through timers.target.
		expect(timer.Timer.OnCalendar).toHaveLength(1);
		expect(timer.Timer.Persistent).toEqual(['yes']);
		expect(timer.Install.WantedBy).toEqual(['timers.target']);
		expect(timer.Timer.Unit ?? ['whatsapp-gateway-backup.service']).toEqual([path.basename(BACKUP_UNIT)]);
	});

	it('its ExecStart, run as the unit runs it on a data folder laid out like its state directory, keeps the newest N dated copies', async () => {
		const stateDir = await stateDirectory(UNPRIVILEGED);
		try {
			const [program, launcher, ...args] = exec;
			const keep = Number(args[2]);
			// The destination, moved from the real state directory into the test's.
			const folder = args[3].replace(environment.GATEWAY_DATA_DIR, stateDir);
			// Older copies from earlier nights: keep of them, so this run deletes the oldest one.
			fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
			const earlier = Array.from({ length: keep }, (_, night) => {
				const name = `gateway-2020-01-${String(night + 1).padStart(2, '0')}T03-15-00-000Z.db`;
				fs.writeFileSync(path.join(folder, name), 'an older copy');
				return name;
			});
			if (UNPRIVILEGED !== undefined) {
				const made = [...earlier.map((name) => path.join(folder, name))];
				for (let at = folder; at !== stateDir; at = path.dirname(at)) made.push(at);
				for (const entry of made) fs.chownSync(entry, UNPRIVILEGED, UNPRIVILEGED);
			}
			const run = spawnSync(
				fs.existsSync(program) ? program : process.execPath,
				[path.join(ROOT, path.relative(one('WorkingDirectory'), launcher)), ...args.slice(0, 3), folder],
				{
					cwd: ROOT,
					encoding: 'utf8',
					uid: UNPRIVILEGED,
					gid: UNPRIVILEGED,
					env: {
						PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
						...backupEnvironment,
						GATEWAY_DATA_DIR: stateDir,
					},
				},
			);
			expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
			expect(run.stdout).toMatch(/^backup written: .+ check ok\)\ndeleted the older copy .+gateway-2020-01-01T.+\n$/);
			const copies = fs.readdirSync(folder).sort();
			expect(copies).toHaveLength(keep);
			expect(copies.every((name) => DATED_COPY.test(name))).toBe(true);
			expect(copies.slice(0, -1)).toEqual(earlier.slice(1));
		} finally {
			fs.rmSync(stateDir, { recursive: true, force: true });
		}
	});

	it('the CLI as docs/production.md runs it: the launcher as the service user, --data-dir naming the state directory', async () => {
		const stateDir = await stateDirectory(UNPRIVILEGED);
		try {
			const launcher = path.join(ROOT, path.relative(one('WorkingDirectory'), exec[1]));
			const folder = path.join(stateDir, 'backups', 'before-upgrade');
			// As `sudo -u whatsapp-gateway <launcher> --data-dir … backup --keep 5 <folder>` would: sudo's PATH,
			// the caller's working folder (one the service user cannot read), nothing else in the environment.
			const run = spawnSync(launcher, ['--data-dir', stateDir, 'backup', '--keep', '5', folder], {
				cwd: UNPRIVILEGED === undefined ? os.tmpdir() : '/root',
				encoding: 'utf8',
				uid: UNPRIVILEGED,
				gid: UNPRIVILEGED,
				env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
			});
			expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
			expect(fs.readdirSync(folder).filter((name) => DATED_COPY.test(name))).toHaveLength(1);
		} finally {
			fs.rmSync(stateDir, { recursive: true, force: true });
		}
	});

	withAnalyze('the service and the timer pass systemd-analyze verify without a warning', () => {
		const result = spawnSync(analyze, ['verify', BACKUP_UNIT, BACKUP_TIMER], { encoding: 'utf8' });
		expect({ status: result.status, stderr: result.stderr, stdout: result.stdout }).toEqual({
			status: 0,
			stderr: '',
			stdout: '',
		});
	});

	withAnalyze('the service is sandboxed as systemd scores it, with no network at all', () => {
		const result = security(BACKUP_UNIT, MAX_EXPOSURE);
		expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
		expect(result.checks.length).toBeGreaterThan(50);
		const exposed = result.checks.filter((check) => !check.set).map((check) => check.name);
		expect(exposed.sort()).toEqual([...BACKUP_ACCEPTED_EXPOSURES].sort());
	});
});
