import { normalizeForMatching } from '../../server/src/common/text';
import { inspectContent } from '../../server/src/messaging/policy';
import { createTestGateway, sendBody, type TestGateway } from '../helpers/gateway';

/** Issue 8, items 6 and 9: invisible and look-alike characters, and limits counted in characters. */
let t: TestGateway;
afterEach(() => t?.close());

const phoneN = (n: number) => `+9665${String(10000000 + n)}`;
const ZWSP = '\u200b';

describe('content policy against invisible and look-alike characters', () => {
	const plain = 'Buy now! Limited time discount';

	it('refuses marketing text hidden with zero-width spaces like its plain form', async () => {
		t = createTestGateway();
		const plainAnswer = await t.send(sendBody({ message: plain, phone: phoneN(1) }));
		const hidden = await t.send(
			sendBody({ message: `B${ZWSP}uy now! Lim${ZWSP}ited time disc${ZWSP}ount`, phone: phoneN(2) }),
		);
		expect(plainAnswer.status).toBe(403);
		expect({ status: hidden.status, error: hidden.body.error, details: hidden.body.details }).toEqual({
			status: 403,
			error: 'policy_violation',
			details: plainAnswer.body.details,
		});
	});

	it('refuses other format characters too (joiners, soft hyphen, bidi marks, word joiner)', async () => {
		t = createTestGateway();
		const res = await t.send(sendBody({ message: 'Bu\u200dy n\u00adow! Lim\u2060ited t\u200eime dis\ufeffcount' }));
		expect(res.status).toBe(403);
		expect(res.body.error).toBe('policy_violation');
	});

	it('refuses Cyrillic and Greek look-alike letters like the Latin text', async () => {
		t = createTestGateway();
		// а е о і are Cyrillic, ο is Greek: the text looks exactly like the plain one.
		const lookAlike = 'Buy n\u043ew! L\u0456mit\u0435d tim\u0435 disc\u03bfunt';
		expect(lookAlike).not.toBe(plain);
		const res = await t.send(sendBody({ message: lookAlike }));
		expect(res.status).toBe(403);
		expect(res.body.details).toMatchObject({ reasons: ['marketing_language'], risk_score: 70 });
		expect(inspectContent(lookAlike).marketingPhrases.sort()).toEqual(['buy now', 'discount', 'limited time']);
		expect(inspectContent(`50% \u043eff today`).marketingPhrases).toEqual(['% off']);
	});

	it('the bulk rule is not evaded by a different number of zero-width spaces per recipient', async () => {
		t = createTestGateway({ account: { instanceRatePerMinute: 1000 } });
		const notice = (n: number) => `Our office is${ZWSP.repeat(n)} closed today.`;
		for (let i = 0; i < 4; i += 1)
			expect((await t.send(sendBody({ message: notice(i), phone: phoneN(i) }))).status).toBe(200);
		const res = await t.send(sendBody({ message: notice(4), phone: phoneN(4) }));
		expect(res.status).toBe(403);
		expect(res.body.details.reasons).toEqual(['bulk_identical_content']);
	});

	it('the bulk rule is not evaded by look-alike letters per recipient either', async () => {
		t = createTestGateway({ account: { instanceRatePerMinute: 1000 } });
		const variants = [
			'Our office is closed today.',
			'Our \u043effice is closed today.',
			'Our office is cl\u043esed today.',
			'Our offic\u0435 is closed today.',
		];
		for (let i = 0; i < 4; i += 1)
			expect((await t.send(sendBody({ message: variants[i], phone: phoneN(i) }))).status).toBe(200);
		const res = await t.send(sendBody({ message: 'Our office is closed tod\u0430y.', phone: phoneN(4) }));
		expect(res.status).toBe(403);
		expect(res.body.details.reasons).toEqual(['bulk_identical_content']);
	});

	it('ordinary text in other scripts is still sent, and the folding is only for comparing', async () => {
		t = createTestGateway();
		expect((await t.send(sendBody({ message: 'Ваш заказ №2041 отправлен.', phone: phoneN(1) }))).status).toBe(200);
		expect((await t.send(sendBody({ message: 'تم شحن طلبك رقم 2041', phone: phoneN(2) }))).status).toBe(200);
		expect(normalizeForMatching('Lim\u200bited')).toBe(normalizeForMatching('L\u0456mited'));
	});
});

describe('content policy against spelled-apart letters and digits for letters', () => {
	const plain = 'Buy now! Limited time discount';
	const evasions = [
		'B.u.y n.o.w! L.i.m.i.t.e.d t.i.m.e d.i.s.c.o.u.n.t',
		'B u y  n o w  L i m i t e d  t i m e  d i s c o u n t',
		'Buy n0w! L1mited t1me d1sc0unt',
		'B-u-y n-0-w! L|mited t!me d!$c0unt',
	];

	it.each(evasions)('refuses %j like the plain text', async (evasion) => {
		t = createTestGateway();
		const plainAnswer = await t.send(sendBody({ message: plain, phone: phoneN(1) }));
		const res = await t.send(sendBody({ message: evasion, phone: phoneN(2) }));
		expect(plainAnswer.status).toBe(403);
		expect({ status: res.status, error: res.body.error, details: res.body.details }).toEqual({
			status: 403,
			error: 'policy_violation',
			details: plainAnswer.body.details,
		});
		expect(inspectContent(evasion).marketingPhrases.sort()).toEqual(['buy now', 'discount', 'limited time']);
	});

	it('ordinary texts with order numbers, prices, codes, initials and Arabic are sent', async () => {
		t = createTestGateway({ account: { instanceRatePerMinute: 1000 } });
		const ordinary = [
			'Your order #2041 has shipped. Total: 150.00 SAR.',
			'Order A1B2-C3 is ready for pickup at gate 4, door 7.',
			'Your code is 4 8 1 5 0 7. It expires in 10 minutes.',
			'Hi J. R. R. Smith, your appointment is on 12/03 at 3:30 pm.',
			'Meeting notes: Q3 plan, items a, b and c.',
			'Call us on +966 50 123 4567 or reply here.',
			'تم شحن طلبك رقم 2041 بقيمة 150 ريال.',
			'مرحبا، موعدك يوم 12/03 الساعة 3:30 مساء.',
			'Your bill of $45.10 is due on the 5th. Sale order SO-5510 is confirmed.',
		];
		const answers = [];
		for (const [i, message] of ordinary.entries()) {
			const res = await t.send(sendBody({ message, phone: phoneN(10 + i) }));
			answers.push([message, res.status, res.body.details?.reasons ?? null]);
		}
		expect(answers).toEqual(ordinary.map((message) => [message, 200, null]));
	});

	it('the bulk rule is not evaded by trailing dots, spacing or punctuation per recipient', async () => {
		t = createTestGateway({ account: { instanceRatePerMinute: 1000, recipientRatePerMinute: 1000 } });
		const statuses: number[] = [];
		for (let i = 1; i <= 5; i += 1) {
			const res = await t.send(sendBody({ message: `Our office is closed today${'.'.repeat(i)}`, phone: phoneN(i) }));
			statuses.push(res.status);
		}
		// Four recipients get it; the fifth is the same text to many recipients, and so is a respaced one.
		expect(statuses).toEqual([200, 200, 200, 200, 403]);
		const spaced = await t.send(sendBody({ message: 'Our  office, is closed -- today!', phone: phoneN(20) }));
		expect(spaced.body.details?.reasons).toEqual(['bulk_identical_content']);
		// Another order number is another text.
		const other = await t.send(sendBody({ message: 'Our office is closed today, order 2042.', phone: phoneN(21) }));
		expect(other.status).toBe(200);
	});
});

describe('text and caption limits count characters, not UTF-16 code units', () => {
	const emoji = '\u{1F600}';

	it('4,096 emoji are a valid text; 4,097 are not', async () => {
		t = createTestGateway();
		const ok = await t.send(sendBody({ message: emoji.repeat(4096), phone: phoneN(1) }));
		expect(ok.status).toBe(200);
		const tooLong = await t.send(sendBody({ message: emoji.repeat(4097), phone: phoneN(2) }));
		expect(tooLong.status).toBe(422);
		expect(tooLong.body.details.fields.message).toBe('must be at most 4096 characters');
	});

	it('a caption of 1,024 emoji is valid; 1,025 are not', async () => {
		t = createTestGateway();
		const media = { media_type: 'image', mime_type: 'image/png', media: Buffer.from('png').toString('base64') };
		const ok = await t.send(sendBody({ ...media, message: emoji.repeat(1024), phone: phoneN(1) }));
		expect(ok.status).toBe(200);
		const tooLong = await t.send(sendBody({ ...media, message: emoji.repeat(1025), phone: phoneN(2) }));
		expect(tooLong.status).toBe(422);
		expect(tooLong.body.details.fields.message).toBe('must be at most 1024 characters as a caption');
	});
});
