import { randomUUID } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import stringify from 'safe-stable-stringify';
import { sha256 } from '../common/hash';
import { ApiError, errorBody } from '../http/errors';
import { askedInBody, type ApiAttempt } from '../messaging/api-guards';
import { ALLOWED_PURPOSES } from '../messaging/request';
import { isValidIdempotencyKey } from 'whatsapp-gateway-contract';
import { html, type SafeHtml } from '../web/html';
import { sendPage } from '../web/page';
import { formOf, formPost } from './auth';
import type { DashboardDeps } from './context';
import { instancePath, instanceTarget, managePage, type InstanceTarget } from './instance-page';
import { csrfField } from './layout';

/** What the API would have answered: its HTTP status and body. */
export interface TestSendResult {
	status: number;
	body: object;
}

export interface TestSendInput {
	phone: string;
	message: string;
	purpose: string;
}

/** The test send tab: a form, and the API's answer to the last test. */
export function testSendTab(
	ctx: Context,
	target: InstanceTarget,
	input?: TestSendInput,
	result?: TestSendResult,
): SafeHtml {
	const sent = result?.status === 200;
	return html`<section class="panel">
  <h2>Test send</h2>
  <p class="hint">Sends through the same guards as <code>POST /api/send-message</code> (plan, purpose, pause, connection, suppression, quota,
    velocity, content policy) and counts against the plan like any send.</p>
  <form method="post" action="${instancePath(target, 'test-send')}" class="stack">${csrfField(ctx)}
    <input type="hidden" name="idempotency_key" value="dashboard-test-${randomUUID()}">
    <label for="test-phone">Phone</label>
    <input id="test-phone" name="phone" type="tel" required placeholder="+9665XXXXXXXX" value="${input?.phone ?? ''}">
    <label for="test-message">Message</label>
    <textarea id="test-message" name="message" rows="3" required>${input?.message ?? ''}</textarea>
    <label for="test-purpose">Purpose</label>
    <select id="test-purpose" name="message_purpose">${ALLOWED_PURPOSES.map(
			(purpose) => html`<option value="${purpose}" ${purpose === input?.purpose && html`selected`}>${purpose}</option>`,
		)}</select>
    <button type="submit" class="button primary">Send test message</button>
  </form>
</section>
${
	result &&
	html`<section class="panel" data-test-result>
  <h2>Result: <span class="badge ${sent ? 'ok' : 'bad'}">HTTP ${result.status}</span></h2>
  <pre class="result">${JSON.stringify(result.body, null, 2)}</pre>
</section>`
}`;
}

function idempotencyKeyOf(form: URLSearchParams): string | undefined {
	const key = form.get('idempotency_key') ?? '';
	return isValidIdempotencyKey(key) ? key : undefined;
}

/** `POST /instances/{id}/test-send`: the API's guard list and send, with source `dashboard` in the message log. */
export function testSendRoutes(router: Router, deps: DashboardDeps): void {
	router.post('/instances/:id/test-send', ...formPost, async (ctx) => {
		const target = instanceTarget(ctx, deps);
		const form = formOf(ctx);
		const input: TestSendInput = {
			phone: form.get('phone') ?? '',
			message: form.get('message') ?? '',
			purpose: form.get('message_purpose') ?? '',
		};
		const body = {
			instance_id: target.instance.id,
			phone: input.phone,
			message: input.message,
			message_purpose: input.purpose,
		};
		const attempt: ApiAttempt = {
			now: deps.clock.now(),
			account: target.account,
			apiKeyId: null,
			source: 'dashboard',
			// Each rendering of the form has its own key: submitting it again (a reload) gets the first answer
			// back, never a second message.
			idempotencyKey: idempotencyKeyOf(form),
			asked: askedInBody(body),
			body,
		};
		let result: TestSendResult;
		try {
			const answer = await deps.messaging.sends.send(attempt, deps.messaging.apiGuards, () =>
				sha256(stringify(body) ?? ''),
			);
			result = { status: answer.status, body: answer.body };
		} catch (error) {
			if (!(error instanceof ApiError)) throw error;
			result = { status: error.status, body: errorBody(error) };
		}
		sendPage(ctx, managePage(ctx, deps, target, 'test', testSendTab(ctx, target, input, result)));
	});
}
