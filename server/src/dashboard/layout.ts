import type { Context } from 'koa';
import type { Account } from '../accounts/service';
import { html, type HtmlValue, type SafeHtml } from '../web/html';
import { documentShell } from '../web/page';
import { sessionOf } from './auth';
import type { DashboardSessions, Flash } from './sessions';

/** The dashboard's sections, in the order the navigation shows them. */
export const NAV = [
	{ href: '/dashboard', label: 'Overview' },
	{ href: '/accounts', label: 'Accounts' },
	{ href: '/api-keys', label: 'API keys' },
	{ href: '/instances', label: 'Instances' },
	{ href: '/messages', label: 'Message log' },
	{ href: '/suppressed-recipients', label: 'Suppressed' },
	{ href: '/inbound-logs', label: 'Inbound' },
	{ href: '/integrations/3cx', label: '3CX' },
	{ href: '/docs', label: 'Docs' },
] as const;

export type Section = (typeof NAV)[number]['href'];

/** A hidden field with the session's CSRF token: every form that posts carries it. */
export function csrfField(ctx: Context): SafeHtml {
	return html`<input type="hidden" name="_csrf" value="${sessionOf(ctx)?.csrf ?? ''}">`;
}

function flashBox(flash: Flash | undefined): SafeHtml | undefined {
	if (!flash) return undefined;
	return html`<div class="flash flash-${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">
  <p>${flash.text}</p>
  ${
		flash.secret !== undefined &&
		html`<div class="secret"><code id="shown-secret">${flash.secret}</code>
    <button type="button" class="button" data-copy="#shown-secret">Copy</button></div>
    <p class="hint">Shown once: the gateway keeps only a hash. Copy it now.</p>`
	}
</div>`;
}

export interface PageOptions {
	title: string;
	section: Section;
	body: HtmlValue;
	/** The account the page is about: the switcher shows it and keeps it across sections. */
	account?: Account;
	accounts?: Account[];
}

/**
 * A signed-in page: the navigation, the account switcher, the one-time message, then the page itself.
 * The navigation collapses into a row that scrolls sideways on a phone.
 */
export function dashboardPage(ctx: Context, sessions: DashboardSessions, options: PageOptions): SafeHtml {
	const session = sessionOf(ctx);
	const flash = session ? sessions.takeFlash(session) : undefined;
	const query = options.account ? `?account=${options.account.id}` : '';
	const nav = NAV.map(
		(item) =>
			html`<a href="${item.href === '/docs' ? item.href : item.href + query}" class="${item.href === options.section ? 'active' : ''}"
        ${item.href === options.section ? html`aria-current="page"` : ''}>${item.label}</a>`,
	);
	const switcher =
		options.accounts && options.accounts.length > 1 && options.account
			? html`<form method="get" class="account-switch" action="${ctx.path}">
          <label for="account-select">Account</label>
          <select id="account-select" name="account" data-autosubmit>
            ${options.accounts.map((account) => html`<option value="${account.id}" ${account.id === options.account?.id && html`selected`}>${account.name}</option>`)}
          </select>
          <noscript><button type="submit" class="button">Show</button></noscript>
        </form>`
			: options.account && html`<span class="account-name">${options.account.name}</span>`;
	return documentShell({
		title: options.title,
		body: html`<header class="topbar">
  <a class="brand" href="/dashboard${query}">WhatsApp Gateway</a>
  ${switcher}
  <form method="post" action="/logout" class="logout">${csrfField(ctx)}<button type="submit" class="button link">Sign out</button></form>
</header>
<nav class="sections" aria-label="Dashboard sections">${nav}</nav>
<main>
<h1>${options.title}</h1>
${flashBox(flash)}
${options.body}
</main>`,
	});
}

/** The sign-in page, and the page for a failure when nobody is signed in. */
export function plainPage(title: string, body: HtmlValue): SafeHtml {
	return documentShell({ title, bodyClass: 'plain', body: html`<main class="narrow"><h1>${title}</h1>${body}</main>` });
}
