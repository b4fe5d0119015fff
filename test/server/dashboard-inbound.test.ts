import { ADMIN_TOKEN, signIn, signedInSuite } from '../helpers/dashboard';

describe('dashboard inbound logs', () => {
	const suite = signedInSuite();

	const inbound = async (from: string, text: string) => {
		const res = await suite.gw.http
			.post('/sandbox/inbound')
			.set('Authorization', `Bearer ${ADMIN_TOKEN}`)
			.send({ instance: 'demo-support-line', from, text });
		expect(res.status).toBe(200);
	};
	const texts = (page: string) =>
		[...page.matchAll(/<span class="message-text">([^<]*)<\/span>/g)].map((match) => match[1]);

	it('lists inbound messages newest first with the keyword they were, escaped, and searches by phone and date', async () => {
		await inbound('+966501234567', 'Hello <there>');
		suite.gw.clock.advance(86_400_000);
		await inbound('+966501234568', 'STOP');
		suite.client = await signIn(suite.gw);

		const all = await suite.client.get('/inbound-logs');
		expect(texts(all.text)).toEqual(['STOP', 'Hello &lt;there&gt;']);
		expect(all.text).toContain('<span class="badge bad">opt-out</span>');
		expect(all.text).toContain('Demo Support Line');
		expect(texts((await suite.client.get('/inbound-logs?phone=%2B966501234567')).text)).toEqual([
			'Hello &lt;there&gt;',
		]);
		expect(texts((await suite.client.get('/inbound-logs?from=2026-05-09&to=2026-05-09')).text)).toEqual(['STOP']);
		expect(texts((await suite.client.get('/inbound-logs?to=2026-05-08')).text)).toEqual(['Hello &lt;there&gt;']);
		expect((await suite.client.get('/inbound-logs?phone=nobody')).status).toBe(422);
	});

	it('pages newest first', async () => {
		for (let i = 0; i < 52; i += 1) await inbound('+966501234567', `message ${i}`);
		const first = await suite.client.get('/inbound-logs');
		expect(texts(first.text)).toHaveLength(50);
		expect(texts(first.text)[0]).toBe('message 51');
		const older = /href="(\/inbound-logs\?[^"]*)">Older/.exec(first.text)?.[1]?.replace(/&amp;/g, '&');
		expect(texts((await suite.client.get(older as string)).text)).toEqual(['message 1', 'message 0']);
	});

	it('sends a signed-out browser to the sign-in page', async () => {
		const res = await suite.gw.http.get('/inbound-logs');
		expect(res.status).toBe(302);
		expect(res.headers.location).toBe('/login?next=%2Finbound-logs');
	});
});
