import type { Context } from 'koa';
import type { Account } from '../accounts/service';
import type { Instance } from '../instances/service';
import { html, type HtmlValue, type SafeHtml } from '../web/html';
import { PageError } from '../web/page';
import { pickAccount, type DashboardDeps } from './context';
import { dashboardPage } from './layout';

/** The tabs of `/instances/{id}/manage`, in the order shown. */
export const TABS = [
	{ name: 'connection', label: 'Connection' },
	{ name: 'webhook', label: 'Webhooks' },
	{ name: 'test', label: 'Test send' },
] as const;
export type TabName = (typeof TABS)[number]['name'];

/** The instance a page or action is about, with the selected account. */
export interface InstanceTarget {
	instance: Instance;
	account: Account;
	accounts: Account[];
}

/**
 * The instance in the URL, which must belong to the selected account (`?account=ID`, else the first):
 * anything else is a 404 page, so one account's page never shows another's instance.
 */
export function instanceTarget(ctx: Context, deps: DashboardDeps): InstanceTarget {
	const { account, accounts } = pickAccount(ctx, deps.accounts);
	const instance = deps.instances.findById(String(ctx.params.id));
	if (!instance || instance.accountId !== account.id)
		throw new PageError(404, `There is no instance ${String(ctx.params.id)} in ${account.name}.`);
	return { instance, account, accounts };
}

/** A path under the instance's manage page, keeping the account. */
export function instancePath(target: InstanceTarget, rest = 'manage', query: Record<string, string> = {}): string {
	const search = new URLSearchParams({ ...query, account: String(target.account.id) });
	return `/instances/${encodeURIComponent(target.instance.id)}/${rest}?${search.toString()}`;
}

const STATE_BADGE: Record<string, string> = { connected: 'ok', connecting: 'warn' };

/** The connection state as a badge (connected green, connecting amber, anything else red). */
export function stateBadge(state: string): SafeHtml {
	return html`<span class="badge ${STATE_BADGE[state] ?? 'bad'}" data-state-badge>${state}</span>`;
}

export function pausedBadge(instance: Instance): SafeHtml | undefined {
	return instance.paused
		? html`<span class="badge bad" title="${instance.pausedReason ?? ''}">paused</span>`
		: undefined;
}

/** The manage page around one tab's body. */
export function managePage(
	ctx: Context,
	deps: DashboardDeps,
	target: InstanceTarget,
	tab: TabName,
	body: HtmlValue,
): SafeHtml {
	const { instance } = target;
	const tabs = TABS.map(
		(one) =>
			html`<a href="${instancePath(target, 'manage', { tab: one.name })}" class="${one.name === tab ? 'active' : ''}" ${one.name === tab && html`aria-current="page"`}>${one.label}</a>`,
	);
	return dashboardPage(ctx, deps.sessions, {
		title: instance.displayName,
		section: '/instances',
		account: target.account,
		accounts: target.accounts,
		body: html`<p class="hint"><code>${instance.name}</code> · ${instance.provider} · ${stateBadge(instance.connectionState)} ${pausedBadge(instance)}
  · <a href="/instances?account=${target.account.id}">All instances</a></p>
<nav class="tabs" aria-label="Instance">${tabs}</nav>
${body}`,
	});
}
