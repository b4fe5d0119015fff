import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Account } from '../accounts/service';
import { iso } from '../common/iso';
import { InputError } from '../input-error';
import { formatCallTime } from '../threecx/event';
import { REQUESTS_PER_MINUTE } from '../threecx/rate-limit';
import type { Integration } from '../threecx/integrations';
import { renderTemplate, unknownVariables } from '../threecx/templates';
import { html, type SafeHtml } from '../web/html';
import { PageError, sendPage } from '../web/page';
import { formOf, formPost, redirectWith, requireSession } from './auth';
import { pickAccount, type DashboardDeps } from './context';
import { csrfField, dashboardPage } from './layout';
import { createForm, endpoints, integrationForm, integrationInputOf } from './threecx-form';
import { wholeNumber } from './view';

const RECENT_EVENTS = 10;
/** The example call the live preview fills the variables with (the business name comes from the form). */
const PREVIEW_CALL = { customer_phone: '+966501234567', agent_extension: '101', queue: '800' };

/** A template rendered for the example call, by the same rule the 3CX events are sent with. */
function previewOf(deps: DashboardDeps, account: Account, text: string, businessName: string): string {
	const callTime = formatCallTime({ given: '', at: deps.clock.now() }, account.timeZone);
	return renderTemplate(text, { ...PREVIEW_CALL, call_time: callTime, business_name: businessName });
}

const page = (account: number, query = '') => `/integrations/3cx?account=${account}${query}`;

function eventsTable(deps: DashboardDeps, integration: Integration): SafeHtml {
	const events = deps.threecx.recentEvents(integration.id, RECENT_EVENTS);
	if (events.length === 0) return html`<p class="empty">No event from 3CX yet.</p>`;
	return html`<div class="table-wrap"><table>
<thead><tr><th>Received</th><th>Event</th><th>Status</th><th>Action</th><th>Reason or error</th><th>Phone</th></tr></thead>
<tbody>${events.map(
		(
			event,
		) => html`<tr><td>${iso(event.created_at)}</td><td>${event.event_type}</td><td>${event.status}</td><td>${event.action}</td>
  <td>${event.error_code ?? event.reason}</td><td>${event.phone}</td></tr>`,
	)}</tbody></table></div>`;
}

/** Requests 3CX made past the rate limit: a PBX over it loses call reports (each call makes two requests). */
function rateLimitedLine(deps: DashboardDeps, integration: Integration): SafeHtml {
	const counts = deps.threecx.rateLimited(integration.id);
	const limit = html`${REQUESTS_PER_MINUTE} requests a minute, ${REQUESTS_PER_MINUTE / 2} calls (a lookup and a call report each)`;
	if (counts.lastDay === 0)
		return html`<p class="hint" data-rate-limited="0">No request refused by the rate limit in the last 24 hours (${limit}).</p>`;
	return html`<p data-rate-limited="${counts.lastDay}"><span class="badge bad">rate limited</span>
  ${counts.lastHour} requests refused with 429 in the last hour, ${counts.lastDay} in the last 24 hours (last at
  ${iso(counts.lastAt)}). The limit is ${limit}.</p>`;
}

function integrationPanel(ctx: Context, deps: DashboardDeps, integration: Integration): SafeHtml {
	const instances = deps.instances.list(integration.accountId);
	const owner = deps.accounts.get(integration.accountId);
	const base = `/integrations/3cx/${integration.id}`;
	const account = `?account=${integration.accountId}`;
	return html`<section class="panel" data-integration="${integration.id}">
  <h2>${integration.name} ${integration.enabled ? html`<span class="badge ok">enabled</span>` : html`<span class="badge bad">disabled</span>`}</h2>
  ${endpoints(integration)}
  <div class="actions">
    <form method="post" action="${base}/test-event${account}" class="inline">${csrfField(ctx)}
      <button type="submit" class="button">Send test event</button></form>
    <form method="post" action="${base}/rotate-secret${account}" class="inline"
      data-confirm="Rotate the secret? The current one stops working at once; 3CX must be given the new one.">${csrfField(ctx)}
      <button type="submit" class="button danger">Rotate secret</button></form>
  </div>
  <h3>Recent events</h3>
  ${rateLimitedLine(deps, integration)}
  ${eventsTable(deps, integration)}
  <h3>Settings</h3>
  ${integrationForm(
		ctx,
		integration,
		instances,
		{ action: `${base}${account}`, preview: `/integrations/3cx/preview${account}` },
		(text) => previewOf(deps, owner, text, integration.businessName),
	)}
</section>`;
}

/**
 * `/integrations/3cx`: the account's 3CX integrations with their settings and templates (the operator API's
 * fields), a live template preview rendered by the server's own template rule, secret rotation and a test event.
 */
export function threecxRoutes(router: Router, deps: DashboardDeps): void {
	const integrationIn = (ctx: Context): Integration => {
		const { account } = pickAccount(ctx, deps.accounts);
		const id = String(ctx.params.id);
		const number = wholeNumber(id);
		const found = number === undefined ? undefined : deps.threecxIntegrations.find(number);
		if (!found || found.accountId !== account.id)
			throw new PageError(404, `There is no 3CX integration ${id} in ${account.name}.`);
		return found;
	};

	router.get('/integrations/3cx', requireSession, (ctx) => {
		const { account, accounts } = pickAccount(ctx, deps.accounts);
		const integrations = deps.threecxIntegrations.list(account.id);
		const instances = deps.instances.list(account.id);
		const body = html`${integrations.length === 0 && html`<p class="empty">No 3CX integration for ${account.name} yet.</p>`}
${integrations.map((integration) => integrationPanel(ctx, deps, integration))}
${instances.length > 0 ? createForm(ctx, instances, `/integrations/3cx/new?account=${account.id}`, account.name) : html`<p class="hint">Create an instance first: an integration sends through one.</p>`}`;
		sendPage(
			ctx,
			dashboardPage(ctx, deps.sessions, {
				title: '3CX integration',
				section: '/integrations/3cx',
				account,
				accounts,
				body,
			}),
		);
	});

	router.post('/integrations/3cx/new', ...formPost, async (ctx) => {
		const { account } = pickAccount(ctx, deps.accounts);
		const form = formOf(ctx);
		try {
			const input = { name: form.get('name') ?? undefined, businessName: form.get('business_name') ?? undefined };
			const { integration, secret } = await deps.threecxIntegrations.create(account.id, {
				...input,
				instance: form.get('instance_id') ?? '',
			});
			redirectWith(ctx, page(account.id), {
				kind: 'ok',
				text: `Created ${integration.name}. Give 3CX this secret:`,
				secret,
			});
		} catch (error) {
			if (!(error instanceof InputError)) throw error;
			redirectWith(ctx, page(account.id), { kind: 'error', text: `Not created: ${error.message}.` });
		}
	});

	router.post('/integrations/3cx/preview', ...formPost, (ctx) => {
		const { account } = pickAccount(ctx, deps.accounts);
		const form = formOf(ctx);
		const text = (form.get('text') ?? '').slice(0, 1024);
		ctx.body = {
			preview: previewOf(deps, account, text, form.get('business_name') ?? account.name),
			unknown_variables: unknownVariables(text),
		};
	});

	router.post('/integrations/3cx/:id', ...formPost, async (ctx) => {
		const integration = integrationIn(ctx);
		try {
			await deps.threecxIntegrations.update(integration.id, integrationInputOf(formOf(ctx)));
			redirectWith(ctx, page(integration.accountId), { kind: 'ok', text: `Saved ${integration.name}.` });
		} catch (error) {
			if (!(error instanceof InputError)) throw error;
			redirectWith(ctx, page(integration.accountId), { kind: 'error', text: `Not saved: ${error.message}.` });
		}
	});

	router.post('/integrations/3cx/:id/rotate-secret', ...formPost, (ctx) => {
		const { integration, secret } = deps.threecxIntegrations.rotateSecret(integrationIn(ctx).id);
		redirectWith(ctx, page(integration.accountId), {
			kind: 'ok',
			text: `New secret for ${integration.name}; the old one no longer works:`,
			secret,
		});
	});

	router.post('/integrations/3cx/:id/test-event', ...formPost, async (ctx) => {
		const integration = integrationIn(ctx);
		const answer = await deps.threecx.handle(integration, deps.accounts.get(integration.accountId), {
			event_type: 'test',
		});
		const ok = answer.status < 300;
		redirectWith(ctx, page(integration.accountId), {
			kind: ok ? 'ok' : 'error',
			text: `Test event: HTTP ${answer.status} ${JSON.stringify(answer.body)}`,
		});
	});
}
