#!/usr/bin/env node
import { stdoutIsTerminal } from '../operations/one-time-secrets';
import { runCli } from './program';

void runCli(process.argv.slice(2), {
	stdout: (text) => process.stdout.write(text),
	stderr: (text) => process.stderr.write(text),
	env: process.env,
	cwd: process.cwd(),
	terminal: stdoutIsTerminal(),
}).then(({ code, server }) => {
	if (!server) process.exitCode = code;
});
