import type Router from '@koa/router';
import type { Account } from '../accounts/service';
import type { DayOutcomes } from '../messaging/message-log';
import { escapeHtml, html, raw, type SafeHtml } from '../web/html';
import { sendPage } from '../web/page';
import { requireSession } from './auth';
import { pickAccount, type DashboardDeps } from './context';
import { dashboardPage } from './layout';
import { statusBadge, table, withAccount } from './view';

/** Statuses of an accepted send; everything else is shown by its error code. */
const ACCEPTED = new Set(['sending', 'sent', 'delivered', 'read', 'unknown']);
const SENT_KEY = 'sent';
const PALETTE = ['#b42318', '#d4a017', '#6941c6', '#0e7090', '#c11574', '#667085', '#b54708', '#3e4784'];
const SENT_COLOUR = '#128c4a';
const CHART_DAYS = 7;

/** Each day's counts by what the chart stacks: accepted sends, then each refusal or failure code. */
function stackedDays(days: DayOutcomes[]): { day: string; values: Map<string, number> }[] {
	return days.map(({ day, counts }) => {
		const values = new Map<string, number>();
		for (const count of counts) {
			const key = ACCEPTED.has(count.status) ? SENT_KEY : (count.error_code ?? count.status);
			values.set(key, (values.get(key) ?? 0) + count.n);
		}
		return { day, values };
	});
}

function seriesOf(days: { values: Map<string, number> }[]): { key: string; colour: string; total: number }[] {
	const totals = new Map<string, number>();
	for (const { values } of days) for (const [key, n] of values) totals.set(key, (totals.get(key) ?? 0) + n);
	const codes = [...totals.keys()].filter((key) => key !== SENT_KEY).sort();
	return [
		{ key: SENT_KEY, colour: SENT_COLOUR, total: totals.get(SENT_KEY) ?? 0 },
		...codes.map((key, index) => ({ key, colour: PALETTE[index % PALETTE.length], total: totals.get(key) ?? 0 })),
	];
}

/** A per-day stacked bar chart drawn on the server from the log's numbers (SVG attributes only: no inline style). */
function sendsChart(days: DayOutcomes[]): SafeHtml {
	const stacked = stackedDays(days);
	const series = seriesOf(stacked);
	const [width, height, left, bottom, top] = [700, 220, 36, 24, 12];
	const max = Math.max(1, ...stacked.map(({ values }) => [...values.values()].reduce((a, b) => a + b, 0)));
	const slot = (width - left) / stacked.length;
	const scale = (n: number) => (n / max) * (height - bottom - top);
	const bars = stacked.map(({ day, values }, index) => {
		const x = left + index * slot + slot * 0.2;
		let y = height - bottom;
		const rects = series.map(({ key, colour }) => {
			const n = values.get(key) ?? 0;
			if (n === 0) return '';
			const h = scale(n);
			y -= h;
			return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.6).toFixed(1)}" height="${h.toFixed(1)}" fill="${colour}"><title>${escapeHtml(`${day}: ${n} ${key}`)}</title></rect>`;
		});
		const label = `<text x="${(x + slot * 0.3).toFixed(1)}" y="${height - 6}" text-anchor="middle">${day.slice(5)}</text>`;
		return rects.join('') + label;
	});
	const axis =
		`<line x1="${left}" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" stroke="#dde1e6"/>` +
		`<line x1="${left}" y1="${top}" x2="${width}" y2="${top}" stroke="#eef0f3"/>` +
		`<text x="${left - 6}" y="${top + 4}" text-anchor="end">${max}</text><text x="${left - 6}" y="${height - bottom}" text-anchor="end">0</text>`;
	const summary = series.map(({ key, total }) => `${total} ${key}`).join(', ');
	const svg = raw(
		`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="sends-chart-title"><title id="sends-chart-title">Sends per day over the last ${CHART_DAYS} days: ${escapeHtml(summary)}</title>${axis}${bars.join('')}</svg>`,
	);
	const legend = series.map(
		({ key, colour, total }) =>
			html`<li>${raw(`<svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" rx="2" fill="${colour}"/></svg>`)} ${key} (${total})</li>`,
	);
	const rows = stacked.map(({ day, values }) => [day, ...series.map(({ key }) => values.get(key) ?? 0)]);
	return html`${svg}<ul class="legend">${legend}</ul>
<details class="chart-table"><summary>The numbers as a table</summary>
${table([{ label: 'Day', rowHeader: true }, ...series.map(({ key }) => ({ label: key, num: true }))], rows, 'No sends.', { stacked: false })}
</details>`;
}

function usageCard(label: string, used: number, limit: number, period: string): SafeHtml {
	return html`<div class="card"><h3>${label}</h3>
  <p class="figure">${used} <span class="hint">of ${limit}</span></p>
  <meter class="usage" min="0" max="${Math.max(limit, 1)}" low="${limit * 0.8}" high="${limit * 0.95}" optimum="0" value="${used}"
    aria-label="${label}: ${used} of ${limit}">${used} of ${limit}</meter>
  <p class="hint">${period}</p></div>`;
}

async function deliveryCards(deps: DashboardDeps): Promise<SafeHtml> {
	const figures = await deps.metrics.deliveryFigures();
	const { succeeded, retry_scheduled: retried, failed, endpoint_gone: gone } = figures.attempts;
	const attempts = succeeded + retried + failed + gone;
	const rate = attempts === 0 ? '–' : `${Math.round((succeeded / attempts) * 1000) / 10}%`;
	return html`<div class="cards">
  <div class="card"><h3>Delivery success</h3><p class="figure">${rate}</p>
    <p class="hint">${succeeded} of ${attempts} attempts succeeded; ${retried} retried, ${failed} failed for good, ${gone} receivers gone (410)</p></div>
  <div class="card"><h3>Delivery lag</h3><p class="figure">${Math.round(figures.lagSeconds)} s</p>
    <p class="hint">How late the oldest due delivery is</p></div>
  <div class="card"><h3>Waiting deliveries</h3><p class="figure">${figures.pending}</p>
    <p class="hint">${figures.due} due now; the rest wait for a retry</p></div>
</div>`;
}

function instancesTable(deps: DashboardDeps, account: Account): SafeHtml {
	const rows = deps.instances
		.list(account.id)
		.map((instance) => [
			html`${instance.displayName}<br><code>${instance.name}</code>`,
			instance.provider,
			html`${statusBadge(instance.connectionState)} ${instance.paused && html`<span class="badge bad">paused</span>`}`,
		]);
	return table(['Instance', 'Provider', 'Connection'], rows, 'This account has no instances yet.');
}

/** `GET /dashboard`: one account's usage, sends, webhook deliveries and instances at a glance. */
export function overviewRoutes(router: Router, deps: DashboardDeps): void {
	router.get('/dashboard', requireSession, async (ctx) => {
		const { account, accounts } = pickAccount(ctx, deps.accounts);
		const usage = deps.messaging.log.usage(account);
		const body = html`<section aria-labelledby="usage-heading"><h2 id="usage-heading">Usage (${account.plan.label} plan${account.limits.custom ? ', custom limits' : ''})</h2>
<div class="cards">${usageCard('Today', usage.today, account.limits.daily, `${usage.day}, ${account.timeZone}`)}
${usageCard('This month', usage.thisMonth, account.limits.monthly, usage.month)}</div></section>
<section aria-labelledby="sends-heading" class="panel"><h2 id="sends-heading">Sends over the last ${CHART_DAYS} days</h2>
<p class="hint">Accepted sends, and refused or failed ones by error code. <a href="${withAccount('/messages', account.id)}">Open the message log</a></p>
${sendsChart(deps.messaging.log.outcomesByDay(account, CHART_DAYS))}</section>
<section aria-labelledby="webhooks-heading"><h2 id="webhooks-heading">Webhook deliveries</h2>
<p class="hint">All accounts, since the gateway started: the figures of <code>/metrics</code>.</p>
${await deliveryCards(deps)}</section>
<section aria-labelledby="instances-heading"><h2 id="instances-heading">Instances</h2>${instancesTable(deps, account)}</section>`;
		sendPage(
			ctx,
			dashboardPage(ctx, deps.sessions, {
				title: `Overview: ${account.name}`,
				section: '/dashboard',
				body,
				account,
				accounts,
			}),
		);
	});
}
