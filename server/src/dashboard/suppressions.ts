import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Account } from '../accounts/service';
import { InputError } from '../input-error';
import type { Suppression } from '../suppressions/service';
import { html, type SafeHtml } from '../web/html';
import { sendPage } from '../web/page';
import { formOf, formPost, redirectWith, requireSession } from './auth';
import { pickAccount, type DashboardDeps } from './context';
import { csrfField, dashboardPage } from './layout';
import { pageOf, pagePosition, PAGE_SIZE, queryText, sameListWith, table, when, withAccount } from './view';

const PATH = '/suppressed-recipients';

/** Where a suppression came from: the recipient's own opt-out keyword (which, and when), the operator, or the content policy. */
function origin(deps: DashboardDeps, account: Account, suppression: Suppression): SafeHtml {
	if (suppression.source === 'keyword') {
		const keyword = deps.inbound.lastOptOut(account.id, suppression.phone);
		return html`<span class="badge warn">opt-out keyword</span>
      ${keyword && html`<q>${keyword.message_text ?? ''}</q> to ${deps.instances.findById(keyword.instance_id)?.displayName ?? keyword.instance_id}, ${when(keyword.received_at, account.timeZone)}`}`;
	}
	if (suppression.source === 'policy') return html`<span class="badge bad">content policy</span> ${suppression.reason}`;
	return html`<span class="badge">operator</span> ${suppression.reason}`;
}

/** `?offset=N`: the first page when absent; a 400 page (as for the logs' `before=`) when not a whole number. */
const offsetOf = (ctx: Context): number => pagePosition(ctx, 'offset') ?? 0;

/** `/suppressed-recipients`: search, add and remove the numbers an account may not message, and where each came from. */
export function suppressionsRoutes(router: Router, deps: DashboardDeps): void {
	router.get(PATH, requireSession, (ctx) => {
		const { account, accounts } = pickAccount(ctx, deps.accounts);
		const search = queryText(ctx, 'phone');
		const offset = offsetOf(ctx);
		const page = pageOf(deps.suppressions.search(account.id, search.replace(/\D/g, ''), PAGE_SIZE + 1, offset));
		const rows = page.rows.map((suppression) => [
			suppression.phone,
			origin(deps, account, suppression),
			when(suppression.createdAt, account.timeZone),
			html`<form method="post" action="${withAccount(`${PATH}/remove`, account.id)}" class="inline-action" data-confirm="Allow messages to ${suppression.phone} again?">
        ${csrfField(ctx)}<input type="hidden" name="phone" value="${suppression.phone}">
        <button type="submit" class="button danger">Remove</button></form>`,
		]);
		const body = html`<div class="split">
<section class="panel" aria-labelledby="search-heading"><h2 id="search-heading">Search</h2>
<form method="get" action="${PATH}" class="inline" role="search" aria-label="Search suppressed recipients">
  <input type="hidden" name="account" value="${account.id}">
  <div class="field"><label for="search-phone">Phone contains</label><input id="search-phone" name="phone" value="${search}" inputmode="tel"></div>
  <button type="submit" class="button">Search</button>
</form></section>
<section class="panel" aria-labelledby="add-heading"><h2 id="add-heading">Suppress a number</h2>
<form method="post" action="${withAccount(PATH, account.id)}" class="inline">
  ${csrfField(ctx)}
  <div class="field"><label for="add-phone">Phone</label><input id="add-phone" name="phone" required inputmode="tel" placeholder="+966501234567"></div>
  <div class="field"><label for="add-reason">Reason</label><input id="add-reason" name="reason" maxlength="200" placeholder="asked by phone not to be contacted"></div>
  <button type="submit" class="button primary">Suppress</button>
</form></section>
</div>
<p class="hint">Sends to these numbers are refused with <code>recipient_suppressed</code>. A recipient who texts an opt-in keyword lifts their own opt-out, never an operator's suppression.</p>
${table(['Recipient', 'Came from', 'Since', ''], rows, search === '' ? 'Nobody is suppressed.' : 'No suppressed number matches.')}
${page.more && html`<p><a class="button" href="${sameListWith(ctx, { offset: offset + PAGE_SIZE })}">More →</a></p>`}`;
		sendPage(
			ctx,
			dashboardPage(ctx, deps.sessions, { title: 'Suppressed recipients', section: PATH, body, account, accounts }),
		);
	});

	router.post(PATH, ...formPost, (ctx) => {
		const { account } = pickAccount(ctx, deps.accounts);
		const form = formOf(ctx);
		const back = withAccount(PATH, account.id);
		try {
			const added = deps.suppressions.add(
				account.id,
				form.get('phone') ?? '',
				(form.get('reason') ?? '').slice(0, 200),
				'manual',
				account.defaultCountry,
			);
			redirectWith(ctx, back, { kind: 'ok', text: `${added.phone} is suppressed.` });
		} catch (error) {
			if (!(error instanceof InputError)) throw error;
			redirectWith(ctx, back, { kind: 'error', text: `Not suppressed: ${error.message}.` });
		}
	});

	router.post(`${PATH}/remove`, ...formPost, (ctx) => {
		const { account } = pickAccount(ctx, deps.accounts);
		const phone = formOf(ctx).get('phone') ?? '';
		const removed = deps.suppressions.remove(account.id, phone, account.defaultCountry);
		redirectWith(
			ctx,
			withAccount(PATH, account.id),
			removed
				? { kind: 'ok', text: `${phone} may be messaged again.` }
				: { kind: 'error', text: `${phone} was not suppressed.` },
		);
	});
}
