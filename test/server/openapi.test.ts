import fs from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
import { compileErrors, dereference, validate } from '@readme/openapi-parser';
import request, { type Response } from 'supertest';
import seed from '../fixtures/seed-001-openapi.json';
import fileDocument from '../../server/src/docs/openapi.json';
import { bootstrapIfEmpty } from '../../server/src/bootstrap';
import { Gateway } from '../../server/src/gateway';
import { ERROR_TABLE } from '../../server/src/http/errors';
import { createTestGateway, sendBody, type TestGateway } from '../helpers/gateway';

type Json = unknown;
type JsonObject = Record<string, Json>;
type ApiDocument = Exclude<Parameters<typeof validate>[0], string>;

const isObject = (value: Json): value is JsonObject =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

/** `$.paths["/api/send-message"].post.responses["200"]`: a JSON path a person can follow. */
function child(path: string, key: string | number): string {
	if (typeof key === 'number') return `${path}[${key}]`;
	return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Throws, naming the JSON path, unless `ours` keeps everything of `seedValue`:
 * - objects: every seed key is present and its value is a superset (new keys are additions);
 * - `enum` arrays (and `parameters` lists): the seed's items are a prefix of ours, in order (values are appended);
 * - `servers`: not compared: ours lists the gateway's own public URL alone (a host named in the published
 *   document is a stranger's, and "Try it out" would send a real key there);
 * - `security` requirements: exactly equal (an extra scheme in a requirement would be a new demand);
 * - any other array (`required`, `tags`, `allOf`, `oneOf`, ...): same length, item by item a superset;
 * - scalars: equal; `info.description` may only be extended (ours starts with the seed's text);
 *   `info.version` is the server's own version, not the seed's.
 */
function assertSuperset(seedValue: Json, ours: Json, path = '$', key = ''): void {
	if (Array.isArray(seedValue)) {
		if (!Array.isArray(ours)) throw new Error(`${path}: the seed has an array, ours has ${JSON.stringify(ours)}`);
		if (key === 'servers') return;
		if (key === 'security') {
			if (JSON.stringify(seedValue) !== JSON.stringify(ours)) {
				throw new Error(`${path}: security changed from ${JSON.stringify(seedValue)} to ${JSON.stringify(ours)}`);
			}
			return;
		}
		const appendOnly = key === 'enum' || key === 'parameters';
		if (appendOnly ? ours.length < seedValue.length : ours.length !== seedValue.length) {
			throw new Error(
				`${path}: ${appendOnly ? 'values were removed' : 'the list changed'} ` +
					`(seed ${JSON.stringify(seedValue)}, ours ${JSON.stringify(ours)})`,
			);
		}
		seedValue.forEach((item, i) => assertSuperset(item, ours[i], child(path, i), key));
		return;
	}
	if (isObject(seedValue)) {
		if (!isObject(ours)) throw new Error(`${path}: the seed has an object, ours has ${JSON.stringify(ours)}`);
		for (const [name, value] of Object.entries(seedValue)) {
			if (!(name in ours)) throw new Error(`${child(path, name)}: missing (the seed has ${JSON.stringify(value)})`);
			assertSuperset(value, ours[name], child(path, name), name);
		}
		return;
	}
	if (path === '$.info.version') return;
	if (path === '$.info.description' && typeof seedValue === 'string' && typeof ours === 'string') {
		if (!ours.startsWith(seedValue)) throw new Error(`${path}: the seed's description must be kept as its beginning`);
		return;
	}
	if (seedValue !== ours) {
		throw new Error(`${path}: the seed has ${JSON.stringify(seedValue)}, ours has ${JSON.stringify(ours)}`);
	}
}

/**
 * Throws, naming the path, unless `value` has the shape of a dereferenced OpenAPI 3.0 `schema`. Strict on
 * purpose: a key the schema does not list is an undocumented field (unless `additionalProperties` allows it).
 */
function assertMatchesSchema(value: Json, schema: JsonObject, path = '$'): void {
	if (Array.isArray(schema.allOf)) {
		for (const part of schema.allOf as JsonObject[]) assertMatchesSchema(value, part, path);
		return;
	}
	if (value === null) {
		if (schema.nullable !== true) throw new Error(`${path}: null is not allowed`);
		return;
	}
	if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
		throw new Error(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
	}
	switch (schema.type) {
		case 'object': {
			if (!isObject(value)) throw new Error(`${path}: expected an object, got ${JSON.stringify(value)}`);
			const properties = (schema.properties ?? {}) as Record<string, JsonObject>;
			for (const name of (schema.required ?? []) as string[]) {
				if (!(name in value)) throw new Error(`${child(path, name)}: required but missing`);
			}
			for (const [name, item] of Object.entries(value)) {
				if (properties[name]) assertMatchesSchema(item, properties[name], child(path, name));
				else if (!schema.additionalProperties) throw new Error(`${child(path, name)}: not documented`);
			}
			return;
		}
		case 'array':
			if (!Array.isArray(value)) throw new Error(`${path}: expected an array, got ${JSON.stringify(value)}`);
			value.forEach((item, i) => assertMatchesSchema(item, schema.items as JsonObject, child(path, i)));
			return;
		case 'integer':
			if (!Number.isInteger(value)) throw new Error(`${path}: expected an integer, got ${JSON.stringify(value)}`);
			return;
		case 'string':
			if (typeof value !== 'string') throw new Error(`${path}: expected a string, got ${JSON.stringify(value)}`);
			if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) throw new Error(`${path}: not a date-time`);
			if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) {
				throw new Error(`${path}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
			}
			return;
		case 'number':
		case 'boolean':
			if (typeof value !== schema.type)
				throw new Error(`${path}: expected a ${schema.type}, got ${JSON.stringify(value)}`);
			return;
		default:
			throw new Error(`${path}: the schema has no type the test knows (${JSON.stringify(schema.type)})`);
	}
}

/** The JSON API the router serves; the test fails when a route appears that is neither here nor documented. */
const JSON_API_PATHS = [
	'/',
	'/openapi.json',
	'/api/send-message',
	'/api/me',
	'/api/instances',
	'/api/messages/{log_id}',
	'/api/webhooks',
	'/api/webhooks/{id}',
	'/api/webhooks/{id}/rotate-secret',
	'/sandbox/inbound',
	'/healthz',
	'/readyz',
	'/metrics',
	'/integrations/3cx/webhook/{integration_id}',
	'/integrations/3cx/sms/{integration_id}',
	'/operator/3cx/integrations',
	'/operator/3cx/integrations/{id}',
	'/operator/3cx/integrations/{id}/rotate-secret',
	'/operator/3cx/integrations/{id}/events',
	'/providers/evolution/{instance_id}',
	'/providers/cloud/{instance_id}',
	'/operator/instances',
	'/operator/instances/{id}',
	'/operator/instances/{id}/connect',
	'/operator/instances/{id}/qr',
];

const REPOSITORY = path.resolve(__dirname, '../..');

/**
 * What in a text cites a document a reader of the API (or of a clone of the repository) does not have: a
 * section sign or a numbered source document, or a Markdown file that is not in the repository (the docs
 * cite `docs/….md`, which is).
 */
function outsideCitations(text: string): string[] {
	const numbered = text.match(/§\s*[\w.]+|\bseed \d+/g) ?? [];
	const files = (text.match(/[\w./-]+\.md\b/g) ?? []).filter(
		(file) => !fs.existsSync(path.join(REPOSITORY, file)) && !fs.existsSync(path.join(REPOSITORY, 'docs', file)),
	);
	return [...numbered, ...files];
}

/** "/api/messages/:logId" and "/api/messages/{log_id}" both become "/api/messages/{}". */
const routeShape = (path: string) => path.replace(/:\w+|\{[^}]+\}/g, '{}');

describe('GET /openapi.json', () => {
	let gw: TestGateway;
	let served: JsonObject;
	/** The served document with every $ref resolved, for checking live answers against it. */
	let resolved: JsonObject;

	beforeAll(async () => {
		gw = createTestGateway();
		const res = await gw.http.get('/openapi.json');
		expect(res.status).toBe(200);
		expect(res.headers['content-type']).toMatch(/^application\/json/);
		served = res.body as JsonObject;
		resolved = (await dereference(structuredClone(served) as ApiDocument)) as unknown as JsonObject;
	});

	afterAll(() => gw.close());

	const operation = (path: string, method: string) =>
		((resolved.paths as JsonObject)[path] as JsonObject | undefined)?.[method] as JsonObject | undefined;

	/** Checks that the answer's status is documented for the operation and its body has the documented shape. */
	function assertDocumentedAnswer(path: string, method: string, res: Response): void {
		const op = operation(path, method);
		if (!op) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
		const response = (op.responses as JsonObject)[String(res.status)] as JsonObject | undefined;
		if (!response) throw new Error(`${method.toUpperCase()} ${path} answered ${res.status}, which is not documented`);
		const schema = ((response.content as JsonObject)['application/json'] as JsonObject).schema as JsonObject;
		assertMatchesSchema(res.body, schema, `${method.toUpperCase()} ${path} ${res.status}`);
	}

	describe('validity', () => {
		it('is a valid OpenAPI 3.0 document', async () => {
			expect(served.openapi).toBe('3.0.3');
			const result = await validate(structuredClone(served) as ApiDocument);
			if (!result.valid) throw new Error(compileErrors(result));
			expect(result).toMatchObject({ valid: true, specification: 'OpenAPI' });
			expect(result.warnings).toEqual([]);
		});

		it('the validation can fail: broken copies are refused', async () => {
			const noTitle = structuredClone(served) as JsonObject;
			delete (noTitle.info as JsonObject).title;
			const undeclaredParameter = structuredClone(served) as JsonObject;
			delete (((undeclaredParameter.paths as JsonObject)['/api/messages/{log_id}'] as JsonObject).get as JsonObject)
				.parameters;
			const cases: [JsonObject, RegExp][] = [
				[noTitle, /required property 'title'/],
				[undeclaredParameter, /missing path parameter\(s\) for `\{log_id\}`/],
			];
			for (const [broken, reason] of cases) {
				const result = await validate(broken as ApiDocument);
				expect(result.valid).toBe(false);
				expect(result.valid ? '' : compileErrors(result)).toMatch(reason);
			}
		});

		it('is the document the app serves from server/src/docs/openapi.json', async () => {
			const { openApiDocument } = await import('../../server/src/docs/openapi');
			expect(served).toEqual(openApiDocument('http://localhost:3000'));
		});

		it("lists the gateway's own public URL as its only server, never a host from the published document", async () => {
			// The default public URL (GATEWAY_PUBLIC_URL unset): http://localhost:PORT.
			expect(served.servers).toEqual([{ url: 'http://localhost:3000', description: 'This gateway' }]);
			const gateway = new Gateway({ databasePath: ':memory:', providers: { publicUrl: 'https://wa.example.com' } });
			try {
				const res = await request(gateway.createApp().callback()).get('/openapi.json');
				expect(res.body.servers).toEqual([{ url: 'https://wa.example.com', description: 'This gateway' }]);
				const named = JSON.stringify(res.body);
				for (const { url } of seed.servers as { url: string }[]) expect(named).not.toContain(new URL(url).host);
			} finally {
				gateway.close();
			}
		});
	});

	describe('info', () => {
		const serverVersion = (
			JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../server/package.json'), 'utf8')) as { version: string }
		).version;

		it("info.version is the server package's version, as served and in the file", () => {
			expect((served.info as JsonObject).version).toBe(serverVersion);
			expect(fileDocument.info.version).toBe(serverVersion);
		});

		it('describes the API as it is: no development history, no citation of documents outside the repository', () => {
			const description = (served.info as JsonObject).description as string;
			expect(description.startsWith(seed.info.description)).toBe(true);
			expect(description).not.toMatch(/\bsession\b|\bissue\b|\badded in\b|\badditions?\b|\bchangelog\b/i);
			// Nor anywhere else in the document: design documents a reader of the API does not have.
			const cited: string[] = [];
			const visit = (value: Json, at: string): void => {
				if (typeof value === 'string' && outsideCitations(value).length > 0)
					cited.push(`${at}: ${outsideCitations(value).join(', ')}`);
				else if (Array.isArray(value)) value.forEach((item, i) => visit(item, child(at, i)));
				else if (isObject(value)) for (const [key, item] of Object.entries(value)) visit(item, child(at, key));
			};
			visit(served, '$');
			expect(cited).toEqual([]);
		});

		it('the checks can fail', () => {
			expect(outsideCitations('The provider seam (see §6).')).toEqual(['§6']);
			expect(outsideCitations('As the product documentation (seed 002) says.')).toEqual(['seed 002']);
			expect(outsideCitations('Shapes from notes/threecx.md.')).toEqual(['notes/threecx.md']);
			expect(outsideCitations('See docs/events.md and api.md; authentication-style messaging')).toEqual([]);
		});
	});

	describe('superset of seed 001', () => {
		it('keeps every path, operation, response, schema, header, scheme, tag and enum value of the seed', () => {
			// Called directly so a failure reports the JSON path of the first difference.
			assertSuperset(seed, served);
		});

		it('actually adds to the seed (it is not the seed copied unchanged)', () => {
			expect(JSON.stringify(served)).not.toEqual(JSON.stringify(seed));
		});

		describe('assertSuperset', () => {
			const copy = () => structuredClone(seed) as unknown as JsonObject;
			const schemas = (doc: JsonObject) => (doc.components as JsonObject).schemas as Record<string, JsonObject>;
			const errorEnum = (doc: JsonObject) =>
				((schemas(doc).ApiError.properties as JsonObject).error as JsonObject).enum as string[];

			it('accepts the seed itself and pure additions', () => {
				expect(() => assertSuperset(seed, seed)).not.toThrow();
				const ours = copy();
				errorEnum(ours).push('a_new_code');
				(schemas(ours).SendMessageRequest.properties as JsonObject).media = { type: 'string' };
				ours.servers = [{ url: 'https://gateway.example.com' }];
				(ours.info as JsonObject).description += ' More.';
				expect(() => assertSuperset(seed, ours)).not.toThrow();
			});

			it('throws, naming the path, when a seed enum value is removed', () => {
				const ours = copy();
				errorEnum(ours).splice(errorEnum(ours).indexOf('recipient_suppressed'), 1);
				expect(() => assertSuperset(seed, ours)).toThrow(/^\$\.components\.schemas\.ApiError\.properties\.error\.enum/);
			});

			it('throws when seed enum values are reordered or a new value is put before them', () => {
				const reordered = copy();
				errorEnum(reordered).reverse();
				expect(() => assertSuperset(seed, reordered)).toThrow(/\.error\.enum\[0\]/);
				const prepended = copy();
				errorEnum(prepended).unshift('a_new_code');
				expect(() => assertSuperset(seed, prepended)).toThrow(/\.error\.enum\[0\]/);
			});

			it('throws, naming the path, when a schema property is removed', () => {
				const ours = copy();
				delete (schemas(ours).SendMessageRequest.properties as JsonObject).phone;
				expect(() => assertSuperset(seed, ours)).toThrow(
					/^\$\.components\.schemas\.SendMessageRequest\.properties\.phone: missing/,
				);
			});

			it('throws when a response, a required field, a value or a seed server changes', () => {
				const noResponse = copy();
				const post = ((noResponse.paths as JsonObject)['/api/send-message'] as JsonObject).post as JsonObject;
				delete (post.responses as JsonObject)['423'];
				expect(() => assertSuperset(seed, noResponse)).toThrow(
					/\$\.paths\["\/api\/send-message"\]\.post\.responses\["423"\]/,
				);

				const required = copy();
				(schemas(required).SendMessageRequest.required as string[]).push('media');
				expect(() => assertSuperset(seed, required)).toThrow(/SendMessageRequest\.required: the list changed/);

				const title = copy();
				(title.info as JsonObject).title = 'Another API';
				expect(() => assertSuperset(seed, title)).toThrow(/^\$\.info\.title/);

				const security = copy();
				const securedPost = ((security.paths as JsonObject)['/api/send-message'] as JsonObject).post as JsonObject;
				(securedPost.security as JsonObject[])[0].ThreeCxSecret = [];
				expect(() => assertSuperset(seed, security)).toThrow(/\.post\.security: security changed/);
			});
		});
	});

	describe('error codes', () => {
		const seedEnum = seed.components.schemas.ApiError.properties.error.enum;
		const ourEnum = () =>
			(
				((((served.components as JsonObject).schemas as JsonObject).ApiError as JsonObject).properties as JsonObject)
					.error as JsonObject
			).enum as string[];

		it('every code of the seed enum is in ERROR_TABLE', () => {
			expect(seedEnum.filter((code) => !(code in ERROR_TABLE))).toEqual([]);
		});

		it('our enum is exactly the codes of ERROR_TABLE, the seed first', () => {
			expect(ourEnum().slice(0, seedEnum.length)).toEqual(seedEnum);
			expect(Object.keys(ERROR_TABLE).filter((code) => !ourEnum().includes(code))).toEqual([]);
			expect(ourEnum().filter((code) => !(code in ERROR_TABLE))).toEqual([]);
			expect(new Set(ourEnum()).size).toBe(ourEnum().length);
		});
	});

	describe('coverage of the routes', () => {
		it('documents every JSON API path the router serves, with its methods', () => {
			const dispatch = gw.gateway.createApp().middleware.find((fn) => 'router' in fn) as
				(((...args: never[]) => unknown) & { router: Router }) | undefined;
			expect(dispatch).toBeDefined();
			const routes = dispatch!.router.stack.map((layer) => ({
				path: String(layer.path),
				methods: layer.methods.filter((method) => method !== 'HEAD').map((method) => method.toLowerCase()),
			}));
			// One router layer per method: /api/webhooks appears once for GET and once for POST.
			const served = [...new Set(routes.map((route) => routeShape(route.path)))].sort();
			expect(served).toEqual(JSON_API_PATHS.map(routeShape).sort());

			const documented = resolved.paths as Record<string, JsonObject>;
			for (const path of JSON_API_PATHS) expect(Object.keys(documented)).toContain(path);
			for (const route of routes) {
				const path = Object.keys(documented).find((candidate) => routeShape(candidate) === routeShape(route.path));
				for (const method of route.methods) {
					expect({ route: route.path, method, documented: Boolean(path && documented[path][method]) }).toEqual({
						route: route.path,
						method,
						documented: true,
					});
				}
			}
		});

		it('documents Bearer authentication on every /api operation, the operator token on /sandbox/inbound', () => {
			for (const path of JSON_API_PATHS.filter((candidate) => candidate.startsWith('/api/'))) {
				for (const method of ['get', 'post', 'delete'].filter((candidate) => operation(path, candidate))) {
					const op = operation(path, method) as JsonObject;
					expect({ path, method, security: op.security }).toEqual({ path, method, security: [{ BearerAuth: [] }] });
					expect(Object.keys(op.responses as JsonObject)).toContain('401');
				}
			}
			const inbound = operation('/sandbox/inbound', 'post') as JsonObject;
			expect(inbound.security).toEqual([{ OperatorToken: [] }]);
			expect((resolved.components as JsonObject).securitySchemes).toHaveProperty('OperatorToken.scheme', 'bearer');
		});
	});

	describe('the live answers have the documented shapes', () => {
		const auth = () => ({ Authorization: `Bearer ${gw.apiKey}` });

		it('GET / and GET /openapi.json', async () => {
			const health = await gw.http.get('/');
			expect(health.body).toMatchObject({ success: true, status: 'ok' });
			assertDocumentedAnswer('/', 'get', health);
			assertDocumentedAnswer('/openapi.json', 'get', await gw.http.get('/openapi.json'));
		});

		it('GET /api/me and GET /api/instances, with and without a key', async () => {
			assertDocumentedAnswer('/api/me', 'get', await gw.http.get('/api/me').set(auth()));
			const instances = await gw.http.get('/api/instances').set(auth());
			expect(instances.body.instances).toHaveLength(1);
			assertDocumentedAnswer('/api/instances', 'get', instances);
			for (const path of ['/api/me', '/api/instances', '/api/messages/1']) {
				const refused = await gw.http.get(path).set({ Authorization: 'Bearer wg_live_not_a_key' });
				expect(refused.status).toBe(401);
				assertDocumentedAnswer(path.replace(/\d+$/, '{log_id}'), 'get', refused);
			}
		});

		it('POST /api/send-message with text and with media, then GET /api/messages/{log_id}', async () => {
			const requestSchema = (resolved.components as JsonObject).schemas as Record<string, JsonObject>;
			const text = sendBody();
			const media = sendBody({
				phone: '+966501234568',
				message: 'Your invoice',
				media_type: 'document',
				mime_type: 'application/pdf',
				file_name: 'invoice-2041.pdf',
				media: `data:application/pdf;base64,${Buffer.from('%PDF-1.4 example').toString('base64')}`,
			});
			let lastLogId = 0;
			for (const body of [text, media]) {
				assertMatchesSchema(body, requestSchema.SendMessageRequest, 'SendMessageRequest');
				const res = await gw.send(body);
				expect(res.status).toBe(200);
				assertDocumentedAnswer('/api/send-message', 'post', res);
				const status = await gw.http.get(`/api/messages/${res.body.log_id}`).set(auth());
				expect(status.body.message).toMatchObject({ log_id: res.body.log_id, status: 'sent' });
				assertDocumentedAnswer('/api/messages/{log_id}', 'get', status);
				lastLogId = res.body.log_id;
			}

			// A refusal is logged with most fields still unknown (null).
			const refused = await gw.send(sendBody({ message_purpose: 'marketing' }));
			expect(refused.status).toBe(422);
			assertDocumentedAnswer('/api/send-message', 'post', refused);
			const blocked = await gw.http.get(`/api/messages/${lastLogId + 1}`).set(auth());
			expect(blocked.body.message).toMatchObject({
				status: 'blocked',
				error: 'message_purpose_not_allowed',
				instance_id: null,
				message_type: null,
			});
			assertDocumentedAnswer('/api/messages/{log_id}', 'get', blocked);

			const missing = await gw.http.get('/api/messages/999').set(auth());
			expect(missing.body.error).toBe('not_found');
			assertDocumentedAnswer('/api/messages/{log_id}', 'get', missing);
		});

		it('Idempotency-Key: replay, reuse with another body, and the documented headers', async () => {
			const send = operation('/api/send-message', 'post') as JsonObject;
			const parameter = (send.parameters as JsonObject[]).find((p) => p.name === 'Idempotency-Key') as JsonObject;
			expect(parameter).toMatchObject({ in: 'header', required: false });
			const key = 'order-2041-shipped';
			assertMatchesSchema(key, parameter.schema as JsonObject, 'Idempotency-Key');
			expect(() => assertMatchesSchema('two words', parameter.schema as JsonObject)).toThrow();

			const body = sendBody({ phone: '+966501234569', message: 'Your order #2042 has been shipped.' });
			const first = await gw.send(body, { 'Idempotency-Key': key });
			const replay = await gw.send(body, { 'Idempotency-Key': key });
			expect(first.status).toBe(200);
			expect(replay.body).toEqual(first.body);
			expect(replay.headers['idempotent-replayed']).toBe('true');
			const headers200 = ((send.responses as JsonObject)['200'] as JsonObject).headers as JsonObject;
			expect(Object.keys(headers200)).toEqual(['Idempotent-Replayed']);
			assertDocumentedAnswer('/api/send-message', 'post', replay);

			const reused = await gw.send({ ...body, message: 'Something else' }, { 'Idempotency-Key': key });
			expect(reused.body.error).toBe('idempotency_key_reused');
			assertDocumentedAnswer('/api/send-message', 'post', reused);

			for (const code of ['409', '429']) {
				const response = (send.responses as JsonObject)[code] as JsonObject;
				expect(Object.keys(response.headers as JsonObject)).toContain('Retry-After');
			}
			expect(Object.keys(send.responses as JsonObject)).toEqual(expect.arrayContaining(['409', '413']));
		});

		it('/api/webhooks: create, list, get and delete, and the refusals', async () => {
			const post = (body: unknown, headers = auth()) =>
				gw.http
					.post('/api/webhooks')
					.set({ ...headers, 'Content-Type': 'application/json' })
					.send(JSON.stringify(body));
			const created = await post({
				destination_url: 'http://127.0.0.1:9/hook',
				events: ['message.received', 'recipient.opted_out'],
				instance_id: 'demo-support-line',
			});
			expect(created.status).toBe(201);
			expect(created.body.webhook).toMatchObject({ instance_id: gw.instanceId, enabled: true, disabled_reason: null });
			assertDocumentedAnswer('/api/webhooks', 'post', created);
			const id = created.body.webhook.id as string;

			const listed = await gw.http.get('/api/webhooks').set(auth());
			expect(listed.body.webhooks).toEqual([created.body.webhook]);
			assertDocumentedAnswer('/api/webhooks', 'get', listed);
			assertDocumentedAnswer('/api/webhooks/{id}', 'get', await gw.http.get(`/api/webhooks/${id}`).set(auth()));
			const rotate = (body: unknown) =>
				gw.http
					.post(`/api/webhooks/${id}/rotate-secret`)
					.set({ ...auth(), 'Content-Type': 'application/json' })
					.send(JSON.stringify(body));
			const rotated = await rotate({ overlap_seconds: 60 });
			expect(rotated.status).toBe(200);
			expect(rotated.body.webhook.previous_secret_expires_at).not.toBeNull();
			assertDocumentedAnswer('/api/webhooks/{id}/rotate-secret', 'post', rotated);
			assertDocumentedAnswer('/api/webhooks/{id}/rotate-secret', 'post', await rotate({ overlap_seconds: -1 }));
			const deleted = await gw.http.delete(`/api/webhooks/${id}`).set(auth());
			expect(deleted.body).toEqual({ success: true, deleted: true, id });
			assertDocumentedAnswer('/api/webhooks/{id}', 'delete', deleted);

			const refusals: [Response, string, string][] = [
				[
					await post({ destination_url: 'http://169.254.169.254/latest/', events: ['message.received'] }),
					'post',
					'/api/webhooks',
				],
				[await post({ destination_url: 'ftp://example.com/', events: ['message.nope'] }), 'post', '/api/webhooks'],
				[await gw.http.get(`/api/webhooks/${id}`).set(auth()), 'get', '/api/webhooks/{id}'],
				[await gw.http.delete(`/api/webhooks/${id}`).set(auth()), 'delete', '/api/webhooks/{id}'],
				[
					await gw.http.post(`/api/webhooks/${id}/rotate-secret`).set(auth()),
					'post',
					'/api/webhooks/{id}/rotate-secret',
				],
				[await gw.http.get('/api/webhooks').set({ Authorization: 'Bearer wg_live_not_a_key' }), 'get', '/api/webhooks'],
			];
			expect(refusals.map(([res]) => [res.status, res.body.error])).toEqual([
				[422, 'validation_error'],
				[422, 'validation_error'],
				[404, 'not_found'],
				[404, 'not_found'],
				[404, 'not_found'],
				[401, 'invalid_api_key'],
			]);
			expect(Object.keys(refusals[1][0].body.details.fields)).toEqual(['destination_url', 'events']);
			for (const [res, method, path] of refusals) assertDocumentedAnswer(path, method, res);
		});

		it('the 3CX routes: events, Generic SMS, and the operator API', async () => {
			const operatorToken = 'operator-token-for-openapi-3cx-0123';
			const gateway = new Gateway({ databasePath: ':memory:', adminToken: operatorToken });
			try {
				const { accountId } = bootstrapIfEmpty(gateway, { timeZone: 'UTC' })!;
				const agent = request(gateway.createApp().callback());
				const operator = { Authorization: `Bearer ${operatorToken}`, 'Content-Type': 'application/json' };
				const created = await agent
					.post('/operator/3cx/integrations')
					.set(operator)
					.send(JSON.stringify({ account_id: accountId, instance_id: 'demo-support-line', business_name: 'Acme' }));
				expect(created.status).toBe(201);
				assertDocumentedAnswer('/operator/3cx/integrations', 'post', created);
				const { integration, secret } = created.body as { integration: { id: number }; secret: string };
				const path = `/integrations/3cx/webhook/${integration.id}`;
				const post = (body: unknown, headers: Record<string, string> = { 'X-WhatsApp-Gateway-3CX-Secret': secret }) =>
					agent
						.post(path)
						.set({ 'Content-Type': 'application/json', ...headers })
						.send(JSON.stringify(body));
				const requestSchema = ((resolved.components as JsonObject).schemas as Record<string, JsonObject>)
					.ThreeCxWebhookRequest;

				const answers: [Response, number][] = [
					[await post({ event_type: 'test' }), 200],
					[await post({ event_type: 'call_started', customer_phone: '+966500000000' }), 200],
					[await post({ event_type: 'missed_call', customer_phone: '+966500000000' }), 403],
					[
						await post({
							event_type: 'outbound_message',
							to: '+966500000000',
							message_text: 'Hi',
							message_purpose: 'marketing',
						}),
						422,
					],
					[await post({ event_type: 'nope' }), 400],
					[await post({ event_type: 'test' }, { 'X-WhatsApp-Gateway-3CX-Secret': 'wrong' }), 401],
				];
				for (const [res, status] of answers) {
					expect(res.status).toBe(status);
					assertDocumentedAnswer('/integrations/3cx/webhook/{integration_id}', 'post', res);
				}
				assertMatchesSchema(
					{ event_type: 'missed_call', customer_phone: '+966500000000', queue: '800' },
					requestSchema,
					'ThreeCxWebhookRequest',
				);
				await gateway.inbound.receiveMessage({
					instanceId: gateway.instances.resolve('demo-support-line').id,
					providerMessageId: 'wamid.oa-1',
					from: '+966500000000',
					text: 'Hi',
				});
				const sent = await post({
					event_type: 'missed_call',
					customer_phone: '+966500000000',
					external_message_id: 'c-1',
				});
				expect(sent.body).toMatchObject({ status: 'processed', action: 'sent' });
				assertDocumentedAnswer('/integrations/3cx/webhook/{integration_id}', 'post', sent);
				const skipped = await post({
					event_type: 'missed_call',
					customer_phone: '+966500000000',
					external_message_id: 'c-2',
				});
				expect(skipped.body).toMatchObject({ status: 'skipped', reason: 'cooldown' });
				assertDocumentedAnswer('/integrations/3cx/webhook/{integration_id}', 'post', skipped);
				const sms = await agent
					.post(`/integrations/3cx/sms/${integration.id}`)
					.set({ Authorization: `Bearer ${secret}` })
					.send(JSON.stringify({ from: '+13052314933', to: '+966500000000', text: 'Your ticket is solved.' }));
				expect(sms.body).toMatchObject({ event_type: 'outbound_message', action: 'sent' });
				assertDocumentedAnswer('/integrations/3cx/sms/{integration_id}', 'post', sms);

				const operatorAnswers: [Response, string, string][] = [
					[await agent.get('/operator/3cx/integrations').set(operator), '/operator/3cx/integrations', 'get'],
					[
						await agent.get(`/operator/3cx/integrations/${integration.id}`).set(operator),
						'/operator/3cx/integrations/{id}',
						'get',
					],
					[
						await agent
							.patch(`/operator/3cx/integrations/${integration.id}`)
							.set(operator)
							.send(JSON.stringify({ window_hours: 12 })),
						'/operator/3cx/integrations/{id}',
						'patch',
					],
					[
						await agent
							.patch(`/operator/3cx/integrations/${integration.id}`)
							.set(operator)
							.send(JSON.stringify({ window_hours: 'x' })),
						'/operator/3cx/integrations/{id}',
						'patch',
					],
					[
						await agent.post(`/operator/3cx/integrations/${integration.id}/rotate-secret`).set(operator),
						'/operator/3cx/integrations/{id}/rotate-secret',
						'post',
					],
					[
						await agent.get(`/operator/3cx/integrations/${integration.id}/events`).set(operator),
						'/operator/3cx/integrations/{id}/events',
						'get',
					],
					[
						await agent.delete(`/operator/3cx/integrations/${integration.id}`).set(operator),
						'/operator/3cx/integrations/{id}',
						'delete',
					],
					[
						await agent.get(`/operator/3cx/integrations/${integration.id}`).set(operator),
						'/operator/3cx/integrations/{id}',
						'get',
					],
					[
						await agent.get('/operator/3cx/integrations').set({ Authorization: 'Bearer nope' }),
						'/operator/3cx/integrations',
						'get',
					],
				];
				expect(operatorAnswers.map(([res]) => res.status)).toEqual([200, 200, 200, 422, 200, 200, 200, 404, 401]);
				for (const [res, route, method] of operatorAnswers) assertDocumentedAnswer(route, method, res);
			} finally {
				gateway.close();
			}
		});

		it('POST /sandbox/inbound with the operator token, a duplicate, and the refusals', async () => {
			const operatorToken = 'x'.repeat(24);
			const gateway = new Gateway({ databasePath: ':memory:', adminToken: operatorToken });
			try {
				const { accountId } = bootstrapIfEmpty(gateway, { timeZone: 'UTC' })!;
				await gateway.webhooks.create({
					accountId,
					destinationUrl: 'http://127.0.0.1:9/hook',
					events: ['message.received'],
				});
				const agent = request(gateway.createApp().callback());
				const inbound = (body: unknown, token = operatorToken) =>
					agent
						.post('/sandbox/inbound')
						.set({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' })
						.send(JSON.stringify(body));
				const body = { instance: 'demo-support-line', from: '+966501234567', text: 'Hello', id: 'sandbox-in.1' };

				const first = await inbound(body);
				expect(first.body).toMatchObject({
					duplicate: false,
					keyword_action: null,
					event_ids: [expect.stringMatching(/^evt_/)],
				});
				assertDocumentedAnswer('/sandbox/inbound', 'post', first);
				const again = await inbound(body);
				expect(again.body).toEqual({
					success: true,
					duplicate: true,
					inbound_id: null,
					keyword_action: null,
					event_ids: [],
				});
				assertDocumentedAnswer('/sandbox/inbound', 'post', again);

				const refused = await inbound(body, 'not-the-operator-token');
				expect(refused.body.error).toBe('invalid_admin_token');
				assertDocumentedAnswer('/sandbox/inbound', 'post', refused);
				const invalid = await inbound({ instance: 'demo-support-line' });
				expect(invalid.body.details.fields).toEqual({ from: 'is required', text: 'is required' });
				assertDocumentedAnswer('/sandbox/inbound', 'post', invalid);
			} finally {
				gateway.close();
			}
		});
	});
});
