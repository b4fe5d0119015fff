'use strict';

/**
 * The provider of `npm run bench:providers`, in its own process: the Evolution API v2 routes the gateway
 * calls (`/instance/connectionState`, `/instance/create`, `/webhook/set`, `/instance/connect`,
 * `/message/sendText`), with Evolution's answer shapes, each answered after BENCH_PROVIDER_DELAY_MS
 * (150 ms): a real provider's latency. The contract tests' faithful fake is test/fakes/evolution-api.ts;
 * this one only has to be fast and slow in the right places. Prints its port on stdout as JSON.
 */

const http = require('node:http');
const { randomBytes } = require('node:crypto');

const DELAY_MS = Number(process.env.BENCH_PROVIDER_DELAY_MS || 150);
const API_KEY = process.env.BENCH_PROVIDER_API_KEY || '';
let sends = 0;

const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (chunk) => chunks.push(chunk));
	req.on('end', () => {
		const answer = (status, body) =>
			setTimeout(() => {
				res.writeHead(status, { 'Content-Type': 'application/json' });
				res.end(JSON.stringify(body));
			}, DELAY_MS);
		if (req.headers.apikey !== API_KEY)
			return answer(401, { status: 401, error: 'Unauthorized', response: { message: 'Unauthorized' } });
		const [, group, action, name] = (req.url || '').split('?')[0].split('/');
		if (group === 'instance' && action === 'connectionState')
			return answer(200, { instance: { instanceName: name, state: 'open' } });
		if (group === 'webhook' && action === 'set') return answer(201, { webhook: { instanceName: name } });
		if (group === 'message' && action === 'sendText') {
			sends += 1;
			const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
			const id = `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
			return answer(201, {
				key: { remoteJid: `${body.number}@s.whatsapp.net`, fromMe: true, id },
				pushName: '',
				status: 'PENDING',
				message: { conversation: body.text },
				messageType: 'conversation',
				messageTimestamp: Math.floor(Date.now() / 1000),
				instanceId: 'bench',
				source: 'unknown',
			});
		}
		return answer(404, { status: 404, error: 'Not Found', response: { message: [`Cannot ${req.method} ${req.url}`] } });
	});
});
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => {
	process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('message', (message) => {
	if (message === 'stats') process.send({ sends });
});
process.on('disconnect', () => process.exit(0));
