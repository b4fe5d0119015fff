/**
 * The CRM template a 3CX admin uploads (integrations/3cx/whatsapp-gateway-crm-template.xml), run the way
 * 3CX runs a server-side template: parameters and call variables substituted into [Name] (an unfilled
 * variable stays as its literal "[Name]"), .NET calls such as [[CallStartTimeUTC].ToString("…")] and
 * [IIf(a==b,x,y)] evaluated, SkipIf honoured, PostValues sent as a JSON body with the Headers, to a real
 * gateway on loopback. Whatever 3CX fills in, the gateway must accept it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { listen } from '../helpers/gateway';
import { createThreecxGateway, CUSTOMER, type ThreecxTestGateway } from '../helpers/threecx';

const TEMPLATE = path.join(__dirname, '../../integrations/3cx/whatsapp-gateway-crm-template.xml');

type Values = Record<string, string | Date>;

interface KeyValue {
	'@_Key': string;
	'#text'?: string | number;
}
interface Scenario {
	'@_Id': string;
	Request: {
		'@_Url': string;
		'@_SkipIf': string;
		'@_RequestType': string;
		'@_RequestEncoding': string;
		Headers: { Value: KeyValue | KeyValue[] };
		PostValues: { Value: KeyValue | KeyValue[] };
	};
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** .NET custom date format, the parts the template uses (UTC). */
function dotNetFormat(date: Date, format: string): string {
	const pad = (n: number, width = 2) => String(n).padStart(width, '0');
	const parts: Record<string, string> = {
		yyyy: pad(date.getUTCFullYear(), 4),
		MM: pad(date.getUTCMonth() + 1),
		dd: pad(date.getUTCDate()),
		HH: pad(date.getUTCHours()),
		mm: pad(date.getUTCMinutes()),
		ss: pad(date.getUTCSeconds()),
	};
	return format.replace(/yyyy|MM|dd|HH|mm|ss/g, (token) => parts[token]);
}

/** One 3CX expression evaluation: variables, then method calls, then IIf, until nothing changes. */
function substitute(text: string, values: Values): string {
	let current = text;
	for (let pass = 0; pass < 5; pass += 1) {
		const before = current;
		current = current.replace(/\[\[(\w+)\]\.ToString\("([^"]*)"\)\]/g, (whole, name: string, format: string) => {
			const value = values[name];
			return value instanceof Date ? dotNetFormat(value, format) : whole;
		});
		current = current.replace(/\[(\w+)\]/g, (whole, name: string) => {
			const value = values[name];
			return typeof value === 'string' ? value : whole;
		});
		current = current.replace(
			/\[IIf\(([^,()]*?)(==|!=)([^,()]*?),([^,()]*),([^,()]*)\)\]/g,
			(_whole, left: string, op: string, right: string, yes: string, no: string) =>
				(op === '==') === (left.trim() === right.trim()) ? yes : no,
		);
		if (current === before) break;
	}
	return current;
}

function loadScenarios(): Map<string, Scenario> {
	const parser = new XMLParser({
		ignoreAttributes: false,
		parseAttributeValue: false,
		parseTagValue: false,
		trimValues: true,
	});
	const document = parser.parse(fs.readFileSync(TEMPLATE, 'utf8')) as {
		Crm: { Scenarios: { Scenario: Scenario[] }; Number: Record<string, string> };
	};
	expect(document.Crm.Number['@_Prefix']).toBe('Plus');
	return new Map(list(document.Crm.Scenarios.Scenario).map((scenario) => [scenario['@_Id'], scenario]));
}

/** Runs a scenario as 3CX would; undefined when its SkipIf says to skip. */
async function runScenario(
	scenario: Scenario,
	values: Values,
): Promise<{ status: number; body: Record<string, unknown>; sent: Record<string, string> } | undefined> {
	const request = scenario.Request;
	if (substitute(request['@_SkipIf'], values) === 'True') return undefined;
	expect([request['@_RequestType'], request['@_RequestEncoding']]).toEqual(['Post', 'Json']);
	const headers = Object.fromEntries(
		list(request.Headers.Value).map((item) => [item['@_Key'], substitute(String(item['#text'] ?? ''), values)]),
	);
	const sent = Object.fromEntries(
		list(request.PostValues.Value).map((item) => [item['@_Key'], substitute(String(item['#text'] ?? ''), values)]),
	);
	const response = await fetch(substitute(request['@_Url'], values), {
		method: 'POST',
		headers: { ...headers, 'Content-Type': 'application/json' },
		body: JSON.stringify(sent),
	});
	return { status: response.status, body: (await response.json()) as Record<string, unknown>, sent };
}

let t: ThreecxTestGateway;
let server: { url: string; close: () => Promise<void> };
let parameters: Values;

beforeEach(async () => {
	t = await createThreecxGateway();
	server = await listen(t.gateway.createApp().callback());
	parameters = {
		GatewayUrl: server.url,
		IntegrationId: String(t.integrationId),
		Secret: t.secret,
		ReportCallEnabled: 'True',
		MaxLength: '15',
	};
});
afterEach(async () => {
	await server.close();
	t.close();
});

const call = (overrides: Values = {}): Values => ({
	CallType: 'Missed',
	Number: CUSTOMER,
	Agent: '101',
	QueueExtension: '800',
	CallStartTimeUTC: new Date('2026-09-15T10:00:00Z'),
	Duration: '00:00:00',
	...overrides,
});

describe('the 3CX CRM template', () => {
	it('ReportCall of a missed call posts missed_call with the secret; the gateway sends the template', async () => {
		await t.customerWrites();
		const result = await runScenario(loadScenarios().get('ReportCall')!, { ...parameters, ...call() });
		expect(result?.sent).toEqual({
			event_type: 'missed_call',
			call_type: 'Missed',
			customer_phone: CUSTOMER,
			agent_extension: '101',
			queue: '800',
			call_time: '2026-09-15T10:00:00Z',
			duration: '00:00:00',
			external_message_id: `3cx-${CUSTOMER}-101-Missed-20260915100000`,
		});
		expect([result?.status, result?.body.event_type, result?.body.action]).toEqual([200, 'missed_call', 'sent']);
		expect(t.providerSends).toEqual([{ to: CUSTOMER, text: expect.stringContaining('Sorry we missed your call') }]);
	});

	it('unfilled variables ([Agent], [QueueExtension]) reach the gateway literally and are accepted as absent', async () => {
		await t.customerWrites();
		const { Agent: _agent, QueueExtension: _queue, ...unfilled } = call();
		const result = await runScenario(loadScenarios().get('ReportCall')!, { ...parameters, ...unfilled });
		expect(result?.sent).toMatchObject({ agent_extension: '[Agent]', queue: '[QueueExtension]' });
		expect([result?.status, result?.body.action]).toEqual([200, 'sent']);
	});

	it('Notanswered, Inbound and Outbound are call_ended; the same call reported twice sends once', async () => {
		await t.customerWrites();
		const scenario = loadScenarios().get('ReportCall')!;
		const notAnswered = await runScenario(scenario, { ...parameters, ...call({ CallType: 'Notanswered' }) });
		expect(notAnswered?.body).toMatchObject({ event_type: 'call_ended', outcome: 'not_answered', action: 'sent' });
		t.clock.advance(16 * 60_000);
		const inbound = await runScenario(scenario, {
			...parameters,
			...call({ CallType: 'Inbound', Duration: '00:02:05' }),
		});
		expect(inbound?.sent.event_type).toBe('call_ended');
		expect(inbound?.body).toMatchObject({ event_type: 'call_ended', action: 'sent' });
		t.clock.advance(16 * 60_000);
		const again = await runScenario(scenario, {
			...parameters,
			...call({ CallType: 'Inbound', Duration: '00:02:05' }),
		});
		expect(again?.body).toMatchObject({ replayed: true, message_id: inbound?.body.message_id });
		expect(t.providerSends).toHaveLength(2);
	});

	it('the lookup scenario (the Test button) posts call_started and is acknowledged', async () => {
		const result = await runScenario(loadScenarios().get('')!, { ...parameters, Number: '+966 50 000 0000' });
		expect(result?.sent).toEqual({ event_type: 'call_started', customer_phone: '+966 50 000 0000' });
		expect(result?.body).toMatchObject({
			status: 'processed',
			event_type: 'call_started',
			action: 'logged',
			customer_phone: CUSTOMER,
		});
	});

	it('with call reporting switched off ReportCall is skipped by its SkipIf', async () => {
		expect(
			await runScenario(loadScenarios().get('ReportCall')!, { ...parameters, ReportCallEnabled: 'False', ...call() }),
		).toBeUndefined();
	});

	it('a wrong secret in the 3CX settings is the generic 401', async () => {
		const result = await runScenario(loadScenarios().get('')!, { ...parameters, Secret: 'tcx_typo', Number: CUSTOMER });
		expect([result?.status, result?.body.error]).toEqual([401, 'invalid_3cx_webhook']);
	});
});
