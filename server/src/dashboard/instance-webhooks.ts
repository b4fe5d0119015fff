import type Router from '@koa/router';
import type { Context } from 'koa';
import { EVENT_GROUPS, eventTypeLabel } from 'whatsapp-gateway-contract';
import { iso } from '../common/iso';
import type { Webhook } from '../events/webhooks';
import { InputError } from '../input-error';
import { html, type SafeHtml } from '../web/html';
import { PageError } from '../web/page';
import { formOf, formPost, redirectWith } from './auth';
import type { DashboardDeps } from './context';
import { instancePath, instanceTarget, type InstanceTarget } from './instance-page';
import { csrfField } from './layout';
import { wholeNumber } from './view';

const RECENT_DELIVERIES = 20;

/** The account's own subscriptions that reach this instance (for it alone, or for all the account's instances). */
function subscriptionsOf(deps: DashboardDeps, target: InstanceTarget): Webhook[] {
	return deps.webhooks
		.list(target.account.id)
		.filter(
			(webhook) =>
				webhook.managedBy === null && (webhook.instanceId === null || webhook.instanceId === target.instance.id),
		);
}

const DELIVERY_BADGE: Record<string, string> = { succeeded: 'ok', pending: 'warn' };

function subscriptionPanel(ctx: Context, deps: DashboardDeps, target: InstanceTarget, webhook: Webhook): SafeHtml {
	const deliveries = deps.webhooks.deliveries({ webhookId: webhook.id, limit: RECENT_DELIVERIES });
	const { health } = webhook;
	return html`<section class="panel" data-webhook="${webhook.id}">
  <h3><code>${webhook.destinationUrl}</code></h3>
  <p>${webhook.enabled ? html`<span class="badge ok">enabled</span>` : html`<span class="badge bad">disabled</span> ${webhook.disabledReason}`}
    ${webhook.instanceId === null && html`<span class="badge">all instances</span>`} <code>${webhook.id}</code></p>
  <p class="hint">Events: ${webhook.events.join(', ')}</p>
  ${webhook.previousSecretExpiresAt !== null && html`<p class="hint">The previous signing secret still signs beside the new one until ${iso(webhook.previousSecretExpiresAt)}.</p>`}
  <div class="cards health">
    <div class="card"><span class="figure small">${iso(health.lastSuccessAt) ?? '—'}</span> last success</div>
    <div class="card"><span class="figure small">${iso(health.lastFailureAt) ?? '—'}</span> last failure ${health.lastFailureReason && html`<br>${health.lastFailureReason}`}</div>
    <div class="card"><span class="figure">${health.consecutiveFailures}</span> failures in a row</div>
    <div class="card"><span class="figure">${health.pendingDeliveries}</span> pending</div>
  </div>
  <h4>Recent deliveries</h4>
  ${
		deliveries.length === 0
			? html`<p class="empty">No deliveries yet.</p>`
			: html`<div class="table-wrap"><table>
    <thead><tr><th>Delivery</th><th>Event</th><th>Status</th><th class="num">Attempts</th><th>Last error</th><th>Created</th><th></th></tr></thead>
    <tbody>${deliveries.map(
			(delivery) => html`<tr>
      <td class="num">${delivery.id}</td><td>${delivery.event_type}<br><code class="hint">${delivery.event_id}</code></td>
      <td><span class="badge ${DELIVERY_BADGE[delivery.status] ?? 'bad'}">${delivery.status}</span></td>
      <td class="num">${delivery.attempts}</td>
      <td>${delivery.last_error ?? (delivery.last_status_code !== null && `HTTP ${delivery.last_status_code}`)}</td>
      <td>${iso(delivery.created_at)}</td>
      <td><form method="post" action="${instancePath(target, `deliveries/${delivery.id}/redeliver`)}">${csrfField(ctx)}
        <button type="submit" class="button">Redeliver</button></form></td>
    </tr>`,
		)}</tbody></table></div>`
	}
  <form method="post" action="${instancePath(target, `webhooks/${webhook.id}/rotate-secret`)}" data-confirm="Issue a new signing secret? The current one keeps signing beside it for 24 hours.">
    ${csrfField(ctx)}<button type="submit" class="button">Rotate signing secret</button></form>
  <form method="post" action="${instancePath(target, `webhooks/${webhook.id}/delete`)}" data-confirm="Delete this subscription and its deliveries?">
    ${csrfField(ctx)}<button type="submit" class="button danger">Delete subscription</button></form>
</section>`;
}

function createForm(ctx: Context, target: InstanceTarget): SafeHtml {
	const groups = Object.entries(EVENT_GROUPS).map(
		([group, types], index) =>
			html`<fieldset><legend>${group}</legend><div class="checks">${types.map(
				(type) =>
					html`<label title="${type}"><input type="checkbox" name="events" value="${type}" ${index === 0 && html`checked`}> ${eventTypeLabel(type)}</label>`,
			)}</div></fieldset>`,
	);
	return html`<section class="panel">
  <h2>New subscription</h2>
  <form method="post" action="${instancePath(target, 'webhooks')}" class="stack">${csrfField(ctx)}
    <label for="webhook-url">Destination URL</label>
    <input id="webhook-url" name="destination_url" type="url" required placeholder="https://n8n.example.com/webhook/…">
    ${groups}
    <button type="submit" class="button primary">Subscribe</button>
    <p class="hint">The signing secret is shown once, after subscribing.</p>
  </form>
</section>`;
}

/** The webhook tab: the subscriptions reaching this instance with their health and recent deliveries, and a new one. */
export function webhookTab(ctx: Context, deps: DashboardDeps, target: InstanceTarget): SafeHtml {
	const subscriptions = subscriptionsOf(deps, target);
	return html`<h2>Subscriptions</h2>
${subscriptions.length === 0 ? html`<p class="empty">No subscription reaches this instance yet.</p>` : subscriptions.map((webhook) => subscriptionPanel(ctx, deps, target, webhook))}
${createForm(ctx, target)}`;
}

/** Subscribe (the secret shown once), rotate its secret, delete, redeliver: what `/api/webhooks` and `deliveries redeliver` do. */
export function webhookRoutes(router: Router, deps: DashboardDeps): void {
	const back = (target: InstanceTarget) => instancePath(target, 'manage', { tab: 'webhook' });
	const ownSubscription = (target: InstanceTarget, id: string): Webhook => {
		const found = subscriptionsOf(deps, target).find((webhook) => webhook.id === id);
		if (!found) throw new PageError(404, `There is no subscription ${id} for this instance.`);
		return found;
	};

	router.post('/instances/:id/webhooks', ...formPost, async (ctx) => {
		const target = instanceTarget(ctx, deps);
		const form = formOf(ctx);
		try {
			const { webhook, secret } = await deps.webhooks.create({
				accountId: target.account.id,
				destinationUrl: form.get('destination_url') ?? '',
				events: form.getAll('events'),
				instanceId: target.instance.id,
			});
			redirectWith(ctx, back(target), {
				kind: 'ok',
				text: `Subscribed ${webhook.destinationUrl}. Its signing secret:`,
				secret,
			});
		} catch (error) {
			if (!(error instanceof InputError)) throw error;
			redirectWith(ctx, back(target), { kind: 'error', text: `Not subscribed: ${error.message}.` });
		}
	});

	router.post('/instances/:id/webhooks/:webhookId/rotate-secret', ...formPost, (ctx) => {
		const target = instanceTarget(ctx, deps);
		const { webhook, secret } = deps.webhooks.rotateSecret(ownSubscription(target, String(ctx.params.webhookId)).id);
		redirectWith(ctx, back(target), {
			kind: 'ok',
			text: `New signing secret for ${webhook.destinationUrl}; the previous one still signs until ${iso(webhook.previousSecretExpiresAt)}:`,
			secret,
		});
	});

	router.post('/instances/:id/webhooks/:webhookId/delete', ...formPost, (ctx) => {
		const target = instanceTarget(ctx, deps);
		const webhook = ownSubscription(target, String(ctx.params.webhookId));
		deps.webhooks.delete(webhook.id);
		redirectWith(ctx, back(target), { kind: 'ok', text: `Deleted the subscription to ${webhook.destinationUrl}.` });
	});

	router.post('/instances/:id/deliveries/:deliveryId/redeliver', ...formPost, (ctx) => {
		const target = instanceTarget(ctx, deps);
		const id = wholeNumber(String(ctx.params.deliveryId)) ?? 0;
		const delivery = deps.webhooks.findDelivery(id);
		if (!delivery) throw new PageError(404, `There is no delivery ${String(ctx.params.deliveryId)}.`);
		ownSubscription(target, delivery.webhook_id);
		deps.webhooks.redeliver(delivery.id);
		redirectWith(ctx, back(target), { kind: 'ok', text: `Delivery ${delivery.id} is queued again (same event id).` });
	});
}
