import type Router from '@koa/router';
import { html } from '../web/html';
import { sendPage } from '../web/page';
import { requireSession } from './auth';
import { pickAccount, type DashboardDeps } from './context';
import { connectionRoutes, connectionTab } from './instance-connection';
import { instanceTarget, managePage, pausedBadge, stateBadge, TABS, type TabName } from './instance-page';
import { testSendRoutes, testSendTab } from './instance-test-send';
import { webhookRoutes, webhookTab } from './instance-webhooks';
import { dashboardPage } from './layout';

const isTab = (value: unknown): value is TabName => TABS.some((tab) => tab.name === value);

/** `/instances` (the account's instances) and `/instances/{id}/manage?tab=connection|webhook|test`. */
export function instanceRoutes(router: Router, deps: DashboardDeps): void {
	router.get('/instances', requireSession, (ctx) => {
		const { account, accounts } = pickAccount(ctx, deps.accounts);
		const instances = deps.instances.list(account.id);
		const rows = instances.map(
			(instance) => html`<tr>
  <td><a href="/instances/${encodeURIComponent(instance.id)}/manage?account=${account.id}">${instance.displayName}</a><br><code>${instance.name}</code></td>
  <td>${instance.provider}</td>
  <td>${stateBadge(instance.connectionState)} ${pausedBadge(instance)}${instance.paused && html`<br><span class="hint">${instance.pausedReason}</span>`}</td>
</tr>`,
		);
		const body =
			instances.length === 0
				? html`<p class="empty">No instance yet. Create one with <code>whatsapp-gateway instances create</code> or the operator API.</p>`
				: html`<div class="table-wrap"><table>
<thead><tr><th>Instance</th><th>Provider</th><th>State</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
		sendPage(
			ctx,
			dashboardPage(ctx, deps.sessions, { title: 'Instances', section: '/instances', account, accounts, body }),
		);
	});

	router.get('/instances/:id/manage', requireSession, (ctx) => {
		const target = instanceTarget(ctx, deps);
		const tab: TabName = isTab(ctx.query.tab) ? ctx.query.tab : 'connection';
		const body =
			tab === 'webhook'
				? webhookTab(ctx, deps, target)
				: tab === 'test'
					? testSendTab(ctx, target)
					: connectionTab(ctx, deps, target);
		sendPage(ctx, managePage(ctx, deps, target, tab, body));
	});

	connectionRoutes(router, deps);
	webhookRoutes(router, deps);
	testSendRoutes(router, deps);
}
