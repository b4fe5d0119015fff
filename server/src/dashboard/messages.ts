import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Account } from '../accounts/service';
import { ERROR_TABLE } from '../http/errors';
import type { LogFilter } from '../messaging/log-queries';
import type { MessageLogRow, MessageStatus } from '../messaging/repository';
import { ALLOWED_PURPOSES } from '../messaging/request';
import { html, type HtmlValue, type SafeHtml } from '../web/html';
import { PageError, sendPage } from '../web/page';
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
	statusBadge,
	table,
	when,
	wholeNumber,
	withAccount,
} from './view';

const STATUSES: MessageStatus[] = ['sent', 'delivered', 'read', 'failed', 'blocked', 'sending', 'unknown'];
const CODES = Object.keys(ERROR_TABLE).sort();

/** A filter value that must be one of `allowed` ('' for any). */
function oneOf<T extends string>(ctx: Context, name: string, allowed: readonly T[]): T | undefined {
	const value = queryText(ctx, name);
	if (value === '') return undefined;
	if (!(allowed as readonly string[]).includes(value))
		throw new PageError(422, `"${value}" is not a ${name} the message log knows.`);
	return value as T;
}

function filterForm(ctx: Context, account: Account): SafeHtml {
	const select = (
		name: string,
		label: string,
		options: readonly string[],
	) => html`<div class="field"><label for="f-${name}">${label}</label>
    <select id="f-${name}" name="${name}"><option value="">any</option>${options.map(
			(option) => html`<option ${queryText(ctx, name) === option && html`selected`}>${option}</option>`,
		)}</select></div>`;
	return html`<form method="get" action="/messages" class="inline panel" role="search" aria-label="Filter the message log">
  <input type="hidden" name="account" value="${account.id}">
  ${select('status', 'Status', STATUSES)}${select('code', 'Error code', CODES)}${select('purpose', 'Purpose', ALLOWED_PURPOSES)}
  <div class="field"><label for="f-phone">Phone</label><input id="f-phone" name="phone" value="${queryText(ctx, 'phone')}" inputmode="tel"></div>
  <div class="field"><label for="f-from">From</label><input id="f-from" name="from" type="date" value="${queryText(ctx, 'from')}"></div>
  <div class="field"><label for="f-to">To</label><input id="f-to" name="to" type="date" value="${queryText(ctx, 'to')}"></div>
  <button type="submit" class="button primary">Filter</button> <a class="button" href="${withAccount('/messages', account.id)}">Clear</a>
</form>`;
}

function logRow(entry: MessageLogRow, account: Account): HtmlValue[] {
	return [
		html`<a href="${withAccount(`/messages/${entry.account_seq}`, account.id)}">#${entry.account_seq}</a>`,
		when(entry.created_at, account.timeZone),
		entry.phone ?? '–',
		entry.message_purpose ?? '–',
		entry.instance_ref ?? '–',
		statusBadge(entry.status),
		entry.error_code && html`<code>${entry.error_code}</code>`,
	];
}

function detailPage(
	entry: MessageLogRow,
	history: { status: string; detail: string | null; created_at: number }[],
	account: Account,
): SafeHtml {
	const zone = account.timeZone;
	const code = entry.error_code as keyof typeof ERROR_TABLE | null;
	const facts: [string, SafeHtml | string | number | null][] = [
		['Status', statusBadge(entry.status)],
		['Error code', code && html`<code>${code}</code> (HTTP ${entry.http_status}): ${ERROR_TABLE[code]?.message ?? ''}`],
		['Recipient', entry.phone],
		['Purpose', entry.message_purpose],
		['Instance', entry.instance_ref],
		['Type', entry.message_type],
		['Risk score', entry.risk_score],
		['Provider message id', entry.provider_message_id && html`<code>${entry.provider_message_id}</code>`],
		['Idempotency key', entry.idempotency_key && html`<code>${entry.idempotency_key}</code>`],
		['Came from', entry.source],
		['Created', when(entry.created_at, zone)],
		['Last change', when(entry.updated_at, zone)],
	];
	const rows = history.map((row) => [when(row.created_at, zone), statusBadge(row.status), row.detail ?? '']);
	return html`<p><a href="${withAccount('/messages', account.id)}">← Message log</a></p>
<div class="panel"><dl class="facts">${facts
		.filter(([, value]) => value !== null && value !== '')
		.map(([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>`)}</dl>
${entry.message_text !== null && html`<h2>Text</h2><pre class="message-text">${entry.message_text}</pre>`}</div>
<h2>History</h2>
<p class="hint">Each attempt's outcome, then what the provider reported (delivered, read, failed).</p>
${table(['When', 'Status', 'Details'], rows, 'No history recorded.')}`;
}

/** `/messages` (the message log, filtered and paged, newest first) and `/messages/{log_id}` (one message's history). */
export function messagesRoutes(router: Router, deps: DashboardDeps): void {
	router.get('/messages', requireSession, (ctx) => {
		const { account, accounts } = pickAccount(ctx, deps.accounts);
		const filter: LogFilter = {
			status: oneOf(ctx, 'status', STATUSES),
			errorCode: oneOf(ctx, 'code', CODES),
			purpose: oneOf(ctx, 'purpose', ALLOWED_PURPOSES),
			phone: phoneFilter(ctx, account),
			...dateRange(ctx, account.timeZone),
			beforeLogId: beforeOf(ctx),
		};
		const found = deps.messaging.log.searchPage(account.id, filter, PAGE_SIZE + 1);
		const page = pageOf(found.rows);
		const last = page.rows.at(-1);
		// A search by status, code or purpose reads a bounded stretch of the log per page (see MessageLogQueries).
		const stopped = page.more ? undefined : found.stopped;
		const body = html`${filterForm(ctx, account)}
${table(
	[{ label: 'Log', num: true }, 'When', 'Recipient', 'Purpose', 'Instance', 'Status', 'Code'],
	page.rows.map((entry) => logRow(entry, account)),
	'No message matches.',
)}
${page.more && last && html`<p><a class="button" href="${sameListWith(ctx, { before: last.account_seq })}">Older messages →</a></p>`}
${
	stopped &&
	html`<p class="hint">The search stopped after ${stopped.examined.toLocaleString('en')} log entries (down to #${stopped.after}); older entries were not searched yet.</p>
<p><a class="button" href="${sameListWith(ctx, { before: stopped.after })}">Search older →</a></p>`
}`;
		sendPage(
			ctx,
			dashboardPage(ctx, deps.sessions, { title: 'Message log', section: '/messages', body, account, accounts }),
		);
	});

	router.get('/messages/:logId', requireSession, (ctx) => {
		const { account, accounts } = pickAccount(ctx, deps.accounts);
		const logId = ctx.params.logId;
		const number = wholeNumber(logId);
		const found = number === undefined ? undefined : deps.messaging.log.find(account.id, number);
		if (!found) throw new PageError(404, `Account ${account.name} has no message #${logId}.`);
		const body = detailPage(found.entry, found.history, account);
		sendPage(
			ctx,
			dashboardPage(ctx, deps.sessions, { title: `Message #${logId}`, section: '/messages', body, account, accounts }),
		);
	});
}
