import type Router from '@koa/router';
import { html } from '../web/html';
import { sendPage } from '../web/page';
import { requireSession } from './auth';
import { pickAccount, type DashboardDeps } from './context';
import { dashboardPage } from './layout';
import {
	beforeOf,
	dateRange,
	pageOf,
	PAGE_SIZE,
	phoneFilter,
	queryText,
	sameListWith,
	table,
	when,
	withAccount,
} from './view';

const KEYWORD_BADGES = {
	opt_out: html`<span class="badge bad">opt-out</span>`,
	opt_in: html`<span class="badge ok">opt-in</span>`,
};

/** `/inbound-logs`: what recipients sent to the account's instances, by phone and date, newest first. */
export function inboundLogsRoutes(router: Router, deps: DashboardDeps): void {
	router.get('/inbound-logs', requireSession, (ctx) => {
		const { account, accounts } = pickAccount(ctx, deps.accounts);
		const filter = { phone: phoneFilter(ctx, account), ...dateRange(ctx, account.timeZone), beforeId: beforeOf(ctx) };
		const page = pageOf(deps.inbound.search(account.id, filter, PAGE_SIZE + 1));
		const instances = new Map(deps.instances.list(account.id).map((instance) => [instance.id, instance.displayName]));
		const rows = page.rows.map((row) => [
			when(row.received_at, account.timeZone),
			row.from_phone,
			html`${instances.get(row.instance_id) ?? row.instance_id}${row.group_id && html`<br><span class="hint">group ${row.group_id}</span>`}`,
			row.message_type,
			html`<span class="message-text">${row.message_text ?? ''}</span>`,
			row.keyword_action && KEYWORD_BADGES[row.keyword_action],
		]);
		const last = page.rows.at(-1);
		const body = html`<form method="get" action="/inbound-logs" class="inline panel" role="search" aria-label="Search inbound messages">
  <input type="hidden" name="account" value="${account.id}">
  <div class="field"><label for="f-phone">Phone</label><input id="f-phone" name="phone" value="${queryText(ctx, 'phone')}" inputmode="tel"></div>
  <div class="field"><label for="f-from">From</label><input id="f-from" name="from" type="date" value="${queryText(ctx, 'from')}"></div>
  <div class="field"><label for="f-to">To</label><input id="f-to" name="to" type="date" value="${queryText(ctx, 'to')}"></div>
  <button type="submit" class="button primary">Search</button> <a class="button" href="${withAccount('/inbound-logs', account.id)}">Clear</a>
</form>
${table(['Received', 'From', 'Instance', 'Type', 'Text', 'Keyword'], rows, 'No inbound message matches.')}
${page.more && last && html`<p><a class="button" href="${sameListWith(ctx, { before: last.id })}">Older messages →</a></p>`}`;
		sendPage(
			ctx,
			dashboardPage(ctx, deps.sessions, {
				title: 'Inbound messages',
				section: '/inbound-logs',
				body,
				account,
				accounts,
			}),
		);
	});
}
