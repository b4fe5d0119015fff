import type Router from '@koa/router';
import type { Context } from 'koa';
import { iso } from '../common/iso';
import { qrCodeFits, qrPng } from '../providers/qr-image';
import { ProviderError } from '../providers/types';
import { html, type SafeHtml } from '../web/html';
import { PageError } from '../web/page';
import { formOf, formPost, redirectWith, requireSession } from './auth';
import type { DashboardDeps } from './context';
import { instancePath, instanceTarget, type InstanceTarget } from './instance-page';
import { csrfField } from './layout';

const MAX_REASON = 500;

/** The connection tab: state, connect (with Evolution's QR code), pause/resume, and Cloud's webhook URL. */
export function connectionTab(ctx: Context, deps: DashboardDeps, target: InstanceTarget): SafeHtml {
	const { instance } = target;
	const connected = instance.connectionState === 'connected';
	const stored = instance.provider === 'evolution' && !connected ? deps.instances.qr(instance.id) : undefined;
	const qr = stored && qrCodeFits(stored.code) ? stored : undefined;
	const webhookUrl = deps.webhookUrl(instance);
	return html`<section class="panel">
  <h2>Connection</h2>
  <p>State: <strong data-connection-state>${connected ? 'Connected' : instance.connectionState}</strong></p>
  ${
		!connected &&
		html`<form method="post" action="${instancePath(target, 'connect')}" class="inline">${csrfField(ctx)}
    <button type="submit" class="button primary">Connect</button></form>`
	}
  ${
		qr &&
		html`<div class="qr" data-connection-poll="${instancePath(target, 'connection')}" data-qr-at="${iso(qr.at)}">
    <img src="${instancePath(target, 'qr.png')}" alt="QR code to pair this instance with WhatsApp" width="320" height="320" data-qr-image>
    <p class="hint">On the phone: WhatsApp → Linked devices → Link a device, and scan this code. It refreshes by itself; this page
      shows "Connected" once WhatsApp has paired.</p>
  </div>`
	}
  ${
		instance.provider === 'cloud' &&
		webhookUrl &&
		html`<h3>Meta's dashboard</h3>
  <p>In your Meta app, WhatsApp → Configuration → Webhook, paste this callback URL, with the verify token the gateway printed
    when the instance was created, and subscribe to <code>messages</code>.</p>
  <div class="secret"><code id="cloud-webhook-url">${webhookUrl}</code>
    <button type="button" class="button" data-copy="#cloud-webhook-url">Copy</button></div>`
	}
</section>
<section class="panel">
  <h2>Sending</h2>
  ${
		instance.paused
			? html`<p><span class="badge bad">paused</span> since ${iso(instance.pausedAt)}: ${instance.pausedReason}</p>
  <p class="hint">Sends to this instance are refused with <code>instance_paused_for_review</code> until it is resumed.</p>
  <form method="post" action="${instancePath(target, 'resume')}" class="inline">${csrfField(ctx)}
    <button type="submit" class="button primary">Resume sending</button></form>`
			: html`<p><span class="badge ok">sending</span> Pausing refuses every send to this instance until it is resumed.</p>
  <form method="post" action="${instancePath(target, 'pause')}" class="inline">${csrfField(ctx)}
    <div class="field"><label for="pause-reason">Reason</label>
      <input id="pause-reason" name="reason" required maxlength="${MAX_REASON}"></div>
    <button type="submit" class="button danger">Pause</button></form>`
	}
</section>`;
}

/**
 * The connection tab's actions: connect, pause (a reason is required), resume; the QR code as a PNG and the
 * state as JSON for the page's script to poll (asking the provider, as `instances connect --wait` does).
 */
export function connectionRoutes(router: Router, deps: DashboardDeps): void {
	const back = (ctx: Context, target: InstanceTarget, text: string, kind: 'ok' | 'error' = 'ok') =>
		redirectWith(ctx, instancePath(target, 'manage', { tab: 'connection' }), { kind, text });

	router.post('/instances/:id/connect', ...formPost, async (ctx) => {
		const target = instanceTarget(ctx, deps);
		try {
			const result = await deps.connector.connect(target.instance);
			back(
				ctx,
				target,
				result.qr ? 'Scan the QR code with WhatsApp on the phone.' : `The provider says: ${result.state}.`,
			);
		} catch (error) {
			if (!(error instanceof ProviderError)) throw error;
			back(ctx, target, `The provider refused to connect: ${error.message}`, 'error');
		}
	});

	router.post('/instances/:id/pause', ...formPost, (ctx) => {
		const target = instanceTarget(ctx, deps);
		const reason = (formOf(ctx).get('reason') ?? '').trim();
		if (reason === '') return back(ctx, target, 'Say why the instance is paused: the reason is required.', 'error');
		if (reason.length > MAX_REASON)
			return back(ctx, target, `The reason is at most ${MAX_REASON} characters.`, 'error');
		deps.instances.pause(target.instance.id, reason);
		back(ctx, target, 'Paused: sends to this instance are refused until it is resumed.');
	});

	router.post('/instances/:id/resume', ...formPost, (ctx) => {
		const target = instanceTarget(ctx, deps);
		deps.instances.resume(target.instance.id);
		back(ctx, target, 'Resumed: this instance sends again.');
	});

	router.get('/instances/:id/qr.png', requireSession, async (ctx) => {
		const { instance } = instanceTarget(ctx, deps);
		const qr = deps.instances.qr(instance.id);
		const png = qr && (await qrPng(qr.code));
		if (!png) throw new PageError(404, 'There is no QR code for this instance: connect it first.');
		ctx.type = 'image/png';
		ctx.body = png;
	});

	router.get('/instances/:id/connection', requireSession, async (ctx) => {
		const { instance } = instanceTarget(ctx, deps);
		let state = instance.connectionState;
		if (state !== 'connected') {
			try {
				state = await deps.connector.refresh(instance);
			} catch (error) {
				if (!(error instanceof ProviderError)) throw error;
			}
		}
		const qr = deps.instances.qr(instance.id);
		ctx.body = { state, qr_at: qr ? iso(qr.at) : null };
	});
}
