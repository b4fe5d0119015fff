import { spawnSync } from 'node:child_process';
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

describe('deploy/whatsapp-gateway.service', () => {
	it('runs as its own unprivileged user, with the data folder as its state directory', () => {
		expect(one('User')).toBe('whatsapp-gateway');
		expect(one('Group')).toBe('whatsapp-gateway');
		expect(one('StateDirectory')).toBe('whatsapp-gateway');
		expect(environment.GATEWAY_DATA_DIR).toBe(`/var/lib/${one('StateDirectory')}`);
		expect(one('StateDirectoryMode')).toBe('0750');
	});

	it('is hardened: no new privileges, no capabilities, read-only system and homes, private /tmp and devices', () => {
		expect(one('NoNewPrivileges')).toBe('yes');
		expect(one('CapabilityBoundingSet')).toBe('');
		expect(one('ProtectSystem')).toBe('strict');
		expect(one('ProtectHome')).toBe('yes');
		for (const key of [
			'PrivateTmp',
			'PrivateDevices',
			'ProtectKernelTunables',
			'ProtectKernelModules',
			'ProtectControlGroups',
			'RestrictSUIDSGID',
			'LockPersonality',
		]) {
			expect({ key, value: one(key) }).toEqual({ key, value: 'yes' });
		}
		expect(one('RestrictAddressFamilies').split(' ').sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_UNIX']);
		// With ProtectSystem=strict the state directory is the only writable place; nothing else is opened up.
		expect(service.ReadWritePaths).toBeUndefined();
		// V8 needs W+X memory for its JIT: this setting would crash node at start.
		expect(service.MemoryDenyWriteExecute).toBeUndefined();
	});

	it('starts the launcher of this repository with its node flags, and stops with SIGTERM', () => {
		const exec = one('ExecStart');
		const workdir = one('WorkingDirectory');
		const match = /^(\/\S+\/node) (.*) (\S+) serve$/.exec(exec);
		expect(match).not.toBeNull();
		const [, , flags, script] = match!;
		expect(script.startsWith(`${workdir}/`)).toBe(true);
		const launcher = path.join(ROOT, path.relative(workdir, script));
		expect(fs.existsSync(launcher)).toBe(true);
		// The same flags the launcher's shebang gives node.
		const shebang = fs.readFileSync(launcher, 'utf8').split('\n')[0];
		expect(shebang).toBe(`#!/usr/bin/env -S node ${flags}`);
		expect(one('KillSignal')).toBe('SIGTERM');
		expect(one('Restart')).toBe('on-failure');
		expect(unit.Install.WantedBy).toEqual(['multi-user.target']);
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

	const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).stdout.trim();
	// .ci/run installs systemd-analyze (Debian's systemd package); a developer machine may lack it.
	(analyze || process.env.CI ? it : it.skip)('passes systemd-analyze verify without a warning', () => {
		expect(analyze).not.toBe('');
		const result = spawnSync(analyze, ['verify', UNIT], { encoding: 'utf8' });
		expect({ status: result.status, stderr: result.stderr, stdout: result.stdout }).toEqual({
			status: 0,
			stderr: '',
			stdout: '',
		});
	});

	it('the verification can fail: a misspelt key and a missing program are reported', () => {
		if (!analyze) return;
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-unit-'));
		try {
			const broken = path.join(dir, 'whatsapp-gateway.service');
			fs.writeFileSync(
				broken,
				fs
					.readFileSync(UNIT, 'utf8')
					.replace('ProtectSystem=strict', 'ProtectSytem=strict')
					.replace('/usr/bin/node ', '/usr/bin/no-such-node '),
			);
			const result = spawnSync(analyze, ['verify', broken], { encoding: 'utf8' });
			expect(result.stderr).toMatch(/Unknown key 'ProtectSytem'/);
			expect(result.stderr).toMatch(/no-such-node is not executable/);
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});
});
