import type { Context } from 'koa';
import { DateTime } from 'luxon';
import type { Account } from '../accounts/service';
import { normalizePhone } from '../common/phone';
import { html, type HtmlValue, type SafeHtml } from '../web/html';
import { PageError } from '../web/page';

/** Rows per page of the dashboard's lists. */
export const PAGE_SIZE = 50;

/** An instant as the operator reads it: in the account's time zone, to the minute (the exact ISO time on hover). */
export function when(ms: number | null, zone: string): SafeHtml {
	if (ms === null) return html`<span class="hint">never</span>`;
	const local = DateTime.fromMillis(ms, { zone });
	return html`<time datetime="${new Date(ms).toISOString()}" title="${new Date(ms).toISOString()}">${local.toFormat('yyyy-LL-dd HH:mm')}</time>`;
}

/** A query parameter as text ('' when absent or repeated). */
export function queryText(ctx: Context, name: string): string {
	const value = ctx.query[name];
	return typeof value === 'string' ? value.trim() : '';
}

/**
 * A whole number written in a URL (an id, a page's position): digits only and exactly representable, else
 * undefined. `Number('100000000000000000000')` is 1e20, which SQLite would take as REAL (OFFSET refuses it)
 * and which no row has, so it is no number here either.
 */
export function wholeNumber(text: string): number | undefined {
	if (!/^\d+$/.test(text)) return undefined;
	const value = Number(text);
	return Number.isSafeInteger(value) ? value : undefined;
}

/** A list's page position from the query (`before`, `offset`): undefined when absent, a 400 page when not a whole number. */
export function pagePosition(ctx: Context, name: string): number | undefined {
	const text = queryText(ctx, name);
	if (text === '') return undefined;
	const value = wholeNumber(text);
	if (value === undefined) throw new PageError(400, 'That page of the list does not exist.');
	return value;
}

/** `?before=N` of a newest-first list: the first page when absent. */
export function beforeOf(ctx: Context): number | undefined {
	return pagePosition(ctx, 'before');
}

/** A phone filter, read the way the API reads a recipient (the account's default country for national numbers). */
export function phoneFilter(ctx: Context, account: Account): string | undefined {
	const text = queryText(ctx, 'phone');
	if (text === '') return undefined;
	const phone = normalizePhone(text, account.defaultCountry);
	if (!phone) throw new PageError(422, `"${text}" is not a valid phone number.`);
	return phone;
}

/**
 * `from` and `to` (YYYY-MM-DD, both days included) as an instant range in the account's time zone.
 * A date that is not one is a 422 page saying which.
 */
export function dateRange(ctx: Context, zone: string): { from?: number; to?: number } {
	const day = (name: 'from' | 'to') => {
		const text = queryText(ctx, name);
		if (text === '') return undefined;
		const parsed = /^\d{4}-\d{2}-\d{2}$/.test(text) ? DateTime.fromISO(text, { zone }) : undefined;
		if (!parsed?.isValid) throw new PageError(422, `"${text}" is not a date (YYYY-MM-DD).`);
		return parsed.startOf('day');
	};
	return { from: day('from')?.toMillis(), to: day('to')?.plus({ days: 1 }).toMillis() };
}

/** The rows of a page fetched with one extra row, and whether another page follows. */
export function pageOf<T>(rows: T[], size = PAGE_SIZE): { rows: T[]; more: boolean } {
	return { rows: rows.slice(0, size), more: rows.length > size };
}

/** A link to the same list with `changes` applied to its query (filters kept). */
export function sameListWith(ctx: Context, changes: Record<string, string | number>): string {
	const query = new URLSearchParams(ctx.querystring);
	for (const [name, value] of Object.entries(changes)) query.set(name, String(value));
	return `${ctx.path}?${query.toString()}`;
}

/** A column of `table`: its heading; `num` right-aligns figures; `rowHeader` makes its cells the rows' headers. */
export type Column = string | { label: string; num?: boolean; rowHeader?: boolean };

const columnOf = (column: Column) => (typeof column === 'string' ? { label: column } : column);

/**
 * A table, or a sentence when there is nothing to list. Each cell carries its column's name, so on a
 * phone every row becomes a small card of "name: value" lines instead of a table to scroll sideways
 * (unless `stacked: false`, for a grid of figures that reads better scrolled).
 */
export function table(
	columns: Column[],
	rows: HtmlValue[][],
	empty: string,
	options: { stacked?: boolean } = {},
): SafeHtml {
	if (rows.length === 0) return html`<p class="empty panel">${empty}</p>`;
	const heads = columns.map(columnOf);
	const cell = (value: HtmlValue, index: number) => {
		const { label, num, rowHeader } = heads[index] ?? { label: '' };
		return rowHeader
			? html`<th scope="row" data-label="${label}"><span class="cell">${value}</span></th>`
			: html`<td data-label="${label}"${num && html` class="num"`}><span class="cell">${value}</span></td>`;
	};
	return html`<div class="table-wrap${options.stacked !== false && html` stacked`}"><table>
<thead><tr>${heads.map(({ label, num }) => html`<th scope="col"${num && html` class="num"`}>${label}</th>`)}</tr></thead>
<tbody>${rows.map((row) => html`<tr>${row.map(cell)}</tr>`)}</tbody>
</table></div>`;
}

/** A message log or connection status as a coloured badge. */
export function statusBadge(status: string): SafeHtml {
	const tone = ['sent', 'delivered', 'read', 'connected', 'open'].includes(status)
		? 'ok'
		: ['blocked', 'failed', 'disconnected', 'close', 'closed'].includes(status)
			? 'bad'
			: 'warn';
	return html`<span class="badge ${tone}">${status}</span>`;
}

/** An account's id in the links of its pages. */
export const withAccount = (path: string, accountId: number) =>
	`${path}${path.includes('?') ? '&' : '?'}account=${accountId}`;
