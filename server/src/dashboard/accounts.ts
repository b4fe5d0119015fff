import type Router from '@koa/router';
import type { Context } from 'koa';
import { PLANS } from '../accounts/plans';
import type { Account, AccountInput } from '../accounts/service';
import { InputError } from '../input-error';
import { html, type HtmlValue, type SafeHtml } from '../web/html';
import { PageError, sendPage } from '../web/page';
import { formOf, formPost, redirectWith, requireSession } from './auth';
import type { DashboardDeps } from './context';
import { csrfField, dashboardPage } from './layout';
import { table, wholeNumber, withAccount } from './view';

const onOff = (on: boolean) => (on ? html`<span class="badge ok">on</span>` : html`<span class="badge">off</span>`);

function accountRow(deps: DashboardDeps, account: Account): HtmlValue[] {
	const usage = deps.messaging.log.usage(account);
	return [
		html`<a href="/accounts/${account.id}">${account.name}</a>`,
		html`${account.plan.label} ${!account.planActive && html`<span class="badge bad">inactive</span>`}`,
		html`${account.limits.daily} / ${account.limits.monthly} ${account.limits.custom && html`<span class="badge warn">custom</span>`}`,
		html`API ${onOff(account.modules.apiAccess)} 3CX ${onOff(account.modules.threecx)}`,
		account.timeZone,
		`${usage.today} / ${usage.thisMonth}`,
	];
}

/**
 * Overrides the form shows as "follows the plan" may be stored explicitly (a limit equal to the plan's):
 * the form carries what it showed (`was_<field>`), and a field left as it was is left alone, so saving
 * an untouched form never turns a reviewed override into "follow the plan".
 */
const OVERRIDES = ['daily_limit', 'monthly_limit', 'api_access', 'threecx'] as const;

function untouched(form: URLSearchParams, name: (typeof OVERRIDES)[number]): boolean {
	return form.has(`was_${name}`) && (form.get(name) ?? '').trim() === form.get(`was_${name}`);
}

/** What the form sends, as the CLI's `accounts update` options: an empty limit or "plan" follows the plan. */
function accountInputOf(form: URLSearchParams): AccountInput {
	const limit = (name: (typeof OVERRIDES)[number]) => {
		if (untouched(form, name)) return undefined;
		const text = (form.get(name) ?? '').trim();
		// The service refuses anything but a whole number, with the same reason the CLI shows.
		return text === '' || text === 'plan' ? null : Number(text);
	};
	const module = (name: (typeof OVERRIDES)[number]) => {
		if (untouched(form, name)) return undefined;
		const value = form.get(name);
		return value === 'on' ? true : value === 'off' ? false : null;
	};
	const country = (form.get('default_country') ?? '').trim();
	return {
		name: form.get('name') ?? undefined,
		plan: form.get('plan') ?? undefined,
		planActive: form.get('plan_active') === 'on',
		dailyLimit: limit('daily_limit'),
		monthlyLimit: limit('monthly_limit'),
		timeZone: (form.get('time_zone') ?? '').trim(),
		defaultCountry: country === '' ? null : country,
		apiAccess: module('api_access'),
		threecx: module('threecx'),
	};
}

const overrideOf = (effective: boolean, plan: boolean) => (effective === plan ? 'plan' : effective ? 'on' : 'off');

/** The form's values: the account's own, or what was just submitted when it was refused. */
function formValues(account: Account, submitted?: URLSearchParams) {
	if (submitted) return (name: string) => submitted.get(name) ?? '';
	const values: Record<string, string> = {
		name: account.name,
		plan: account.plan.name,
		plan_active: account.planActive ? 'on' : '',
		daily_limit: account.limits.daily === account.plan.dailyLimit ? '' : String(account.limits.daily),
		monthly_limit: account.limits.monthly === account.plan.monthlyLimit ? '' : String(account.limits.monthly),
		time_zone: account.timeZone,
		default_country: account.defaultCountry ?? '',
		// An override that differs from the plan shows as on/off; one equal to the plan changes nothing either way.
		api_access: overrideOf(account.modules.apiAccess, account.plan.modules.apiAccess),
		threecx: overrideOf(account.modules.threecx, account.plan.modules.threecx),
	};
	return (name: string) => values[name] ?? '';
}

function editForm(ctx: Context, account: Account, submitted?: URLSearchParams, error?: string): SafeHtml {
	const value = formValues(account, submitted);
	const shown = formValues(account);
	const was = OVERRIDES.map(
		(name) => html`<input type="hidden" name="was_${name}" value="${submitted?.get(`was_${name}`) ?? shown(name)}">`,
	);
	const moduleSelect = (
		name: string,
		label: string,
		now: boolean,
	) => html`<div class="field"><label for="${name}">${label}</label>
    <select id="${name}" name="${name}">
      ${[
				['plan', `as the plan (now ${now ? 'on' : 'off'})`],
				['on', 'on'],
				['off', 'off'],
			].map(
				([option, text]) =>
					html`<option value="${option}" ${value(name) === option && html`selected`}>${text}</option>`,
			)}
    </select></div>`;
	return html`${error && html`<div class="flash flash-error" role="alert"><p>${error}</p></div>`}
<form method="post" action="/accounts/${account.id}" class="stack panel">
  ${csrfField(ctx)}${was}
  <label for="name">Name</label><input id="name" name="name" value="${value('name')}" required>
  <label for="plan">Plan</label>
  <select id="plan" name="plan">${Object.values(PLANS).map(
		(plan) =>
			html`<option value="${plan.name}" ${value('plan') === plan.name && html`selected`}>${plan.label}: ${plan.dailyLimit}/day, ${plan.monthlyLimit}/month</option>`,
	)}</select>
  <label class="check"><input type="checkbox" name="plan_active" ${value('plan_active') === 'on' && html`checked`}> The plan is active (an inactive plan refuses sends with active_plan_required)</label>
  <fieldset><legend>Reviewed custom limits</legend>
    <p class="hint">Empty follows the plan.</p>
    <div class="field"><label for="daily_limit">Messages per day</label><input id="daily_limit" name="daily_limit" inputmode="numeric" value="${value('daily_limit')}" placeholder="${account.plan.dailyLimit}"></div>
    <div class="field"><label for="monthly_limit">Messages per month</label><input id="monthly_limit" name="monthly_limit" inputmode="numeric" value="${value('monthly_limit')}" placeholder="${account.plan.monthlyLimit}"></div>
  </fieldset>
  <fieldset><legend>Modules</legend>
    ${moduleSelect('api_access', 'API Access', account.plan.modules.apiAccess)}
    ${moduleSelect('threecx', '3CX', account.plan.modules.threecx)}
  </fieldset>
  <label for="time_zone">Time zone</label>
  <input id="time_zone" name="time_zone" value="${value('time_zone')}" required aria-describedby="time-zone-hint">
  <p class="hint" id="time-zone-hint">An IANA time zone such as Asia/Riyadh or Europe/Berlin: days and months of the quotas follow it.</p>
  <label for="default_country">Default country</label>
  <input id="default_country" name="default_country" value="${value('default_country')}" maxlength="2" aria-describedby="country-hint">
  <p class="hint" id="country-hint">Two letters (SA, DE) for phone numbers written without a country code; empty for none.</p>
  <div><button type="submit" class="button primary">Save</button> <a href="/accounts" class="button">Cancel</a></div>
</form>`;
}

function accountOf(deps: DashboardDeps, id: string): Account {
	const number = wholeNumber(id);
	const account = number === undefined ? undefined : deps.accounts.find(number);
	if (!account) throw new PageError(404, `There is no account ${id}.`);
	return account;
}

function editPage(ctx: Context, deps: DashboardDeps, account: Account, submitted?: URLSearchParams, error?: string) {
	return dashboardPage(ctx, deps.sessions, {
		title: `Account: ${account.name}`,
		section: '/accounts',
		body: html`<p><a href="${withAccount('/api-keys', account.id)}">API keys</a> · <a href="${withAccount('/dashboard', account.id)}">Overview</a></p>
${editForm(ctx, account, submitted, error)}`,
		account,
		accounts: deps.accounts.list(),
	});
}

/** `/accounts` (every account, its plan, limits, modules and usage) and `/accounts/{id}` (change them). */
export function accountsRoutes(router: Router, deps: DashboardDeps): void {
	router.get('/accounts', requireSession, (ctx) => {
		const accounts = deps.accounts.list();
		const rows = accounts.map((account) => accountRow(deps, account));
		const body = html`${table(['Account', 'Plan', { label: 'Limits (day / month)', num: true }, 'Modules', 'Time zone', { label: 'Used (today / month)', num: true }], rows, 'No account yet. Create one with `whatsapp-gateway accounts create`.')}
<p class="hint">New accounts are created with <code>whatsapp-gateway accounts create --name …</code>.</p>`;
		sendPage(
			ctx,
			dashboardPage(ctx, deps.sessions, {
				title: 'Accounts',
				section: '/accounts',
				body,
				account: accounts[0],
				accounts,
			}),
		);
	});

	router.get('/accounts/:id', requireSession, (ctx) => {
		sendPage(ctx, editPage(ctx, deps, accountOf(deps, ctx.params.id)));
	});

	router.post('/accounts/:id', ...formPost, (ctx) => {
		const account = accountOf(deps, ctx.params.id);
		const form = formOf(ctx);
		try {
			deps.accounts.update(account.id, accountInputOf(form));
		} catch (error) {
			if (!(error instanceof InputError)) throw error;
			sendPage(ctx, editPage(ctx, deps, account, form, `Not saved: ${error.message}.`), 422);
			return;
		}
		redirectWith(ctx, `/accounts/${account.id}`, { kind: 'ok', text: `Saved ${form.get('name') ?? account.name}.` });
	});
}
