import type Router from '@koa/router';
import type { ApiKeyInfo } from '../accounts/service';
import { html, type HtmlValue } from '../web/html';
import { PageError, sendPage } from '../web/page';
import { formOf, formPost, redirectWith, requireSession } from './auth';
import { pickAccount, type DashboardDeps } from './context';
import { csrfField, dashboardPage } from './layout';
import { table, when, withAccount } from './view';

const MAX_NAME = 100;

/** `/api-keys`: an account's keys (prefixes only), a new key shown once, and revocation. */
export function apiKeysRoutes(router: Router, deps: DashboardDeps): void {
	router.get('/api-keys', requireSession, (ctx) => {
		const { account, accounts } = pickAccount(ctx, deps.accounts);
		const zone = account.timeZone;
		const keyRow = (key: ApiKeyInfo): HtmlValue[] => [
			key.name,
			html`<code>${key.prefix}…</code>`,
			when(key.createdAt, zone),
			when(key.lastUsedAt, zone),
			key.revokedAt === null
				? html`<form method="post" action="${withAccount(`/api-keys/${key.id}/revoke`, account.id)}" class="inline-action"
            data-confirm="Revoke the key ${key.name} (${key.prefix}…)? Requests with it are refused from the next one.">
            ${csrfField(ctx)}<button type="submit" class="button danger">Revoke</button></form>`
				: html`<span class="badge bad">revoked</span> ${when(key.revokedAt, zone)}`,
		];
		const keys = deps.accounts.listKeys(account.id);
		const body = html`<form method="post" action="${withAccount('/api-keys', account.id)}" class="inline panel">
  ${csrfField(ctx)}
  <div class="field"><label for="key-name">New key's name</label>
    <input id="key-name" name="name" required maxlength="${MAX_NAME}" placeholder="n8n production"></div>
  <button type="submit" class="button primary">Create key</button>
</form>
<p class="hint">A key is shown once, when it is created; the gateway keeps only its hash. Keys are sent as <code>Authorization: Bearer …</code>.</p>
${table(['Name', 'Key', 'Created', 'Last used', 'Status'], keys.map(keyRow), 'This account has no API keys yet.')}`;
		sendPage(
			ctx,
			dashboardPage(ctx, deps.sessions, { title: 'API keys', section: '/api-keys', body, account, accounts }),
		);
	});

	router.post('/api-keys', ...formPost, (ctx) => {
		const { account } = pickAccount(ctx, deps.accounts);
		const name = (formOf(ctx).get('name') ?? '').trim();
		if (name === '' || name.length > MAX_NAME)
			throw new PageError(422, `A key needs a name of 1 to ${MAX_NAME} characters.`);
		const created = deps.accounts.createKey(account.id, name);
		deps.logger.info({ accountId: account.id, keyId: created.info.id }, 'API key created from the dashboard');
		redirectWith(ctx, withAccount('/api-keys', account.id), {
			kind: 'ok',
			text: `Created the key ${name}.`,
			secret: created.key,
		});
	});

	router.post('/api-keys/:id/revoke', ...formPost, (ctx) => {
		const { account } = pickAccount(ctx, deps.accounts);
		const key = deps.accounts.listKeys(account.id).find((one) => String(one.id) === ctx.params.id);
		if (!key) throw new PageError(404, `Account ${account.name} has no API key ${ctx.params.id}.`);
		deps.accounts.revokeKey(key.id);
		deps.logger.info({ accountId: account.id, keyId: key.id }, 'API key revoked from the dashboard');
		redirectWith(ctx, withAccount('/api-keys', account.id), {
			kind: 'ok',
			text: `Revoked the key ${key.name} (${key.prefix}…).`,
		});
	});
}
