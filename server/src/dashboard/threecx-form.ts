import type { Context } from 'koa';
import type { Instance } from '../instances/service';
import { SECRET_HEADER } from '../threecx/auth';
import { DESTINATION_FORMATS, type IntegrationInput } from '../threecx/integration-settings';
import type { Integration } from '../threecx/integrations';
import { genericSmsPath, webhookPath } from '../threecx/presenter';
import { TEMPLATE_EVENTS, TEMPLATE_VARIABLES } from '../threecx/templates';
import { html, type SafeHtml } from '../web/html';
import { csrfField } from './layout';

/** The switches of an integration, as checkboxes (a missing one is off). */
const SWITCHES = [
	{ name: 'enabled', label: 'Integration enabled', of: (integration: Integration) => integration.enabled },
	{
		name: 'outbound_enabled',
		label: 'Agents may send (outbound_message, Generic SMS)',
		of: (integration: Integration) => integration.outboundEnabled,
	},
	{
		name: 'call_events_enabled',
		label: 'Call events send their templates',
		of: (integration: Integration) => integration.callEventsEnabled,
	},
	{
		name: 'strict_window',
		label: 'Agents send only inside the conversation window',
		of: (integration: Integration) => integration.strictWindow,
	},
] as const;

const optional = (value: string | null) => {
	const trimmed = (value ?? '').trim();
	return trimmed === '' ? null : trimmed;
};

/**
 * A submitted settings form as the operator API's input: the same fields `PATCH /operator/3cx/integrations/{id}`
 * takes. An empty HMAC secret leaves it as it is (it is never shown back) unless "turn HMAC off" is ticked.
 */
export function integrationInputOf(form: URLSearchParams): IntegrationInput {
	const allowlist = (form.get('ip_allowlist') ?? '').split(/[\s,]+/).filter(Boolean);
	const hmac = optional(form.get('hmac_secret'));
	const windowHours = Number(form.get('window_hours'));
	return {
		instance: form.get('instance_id') ?? undefined,
		name: form.get('name') ?? undefined,
		businessName: form.get('business_name') ?? undefined,
		enabled: form.has('enabled'),
		outboundEnabled: form.has('outbound_enabled'),
		callEventsEnabled: form.has('call_events_enabled'),
		strictWindow: form.has('strict_window'),
		windowHours: Number.isInteger(windowHours) ? windowHours : undefined,
		hmacSecret: form.has('hmac_off') ? null : (hmac ?? undefined),
		ipAllowlist: allowlist.length > 0 ? allowlist : null,
		destinationUrl: optional(form.get('destination_url')),
		destinationFormat: form.get('destination_format') ?? undefined,
		lineNumber: optional(form.get('line_number')),
		templates: Object.fromEntries(
			TEMPLATE_EVENTS.map((event) => [
				event,
				{ enabled: form.has(`template_${event}_enabled`), text: form.get(`template_${event}_text`) ?? '' },
			]),
		),
	};
}

function instanceSelect(id: string, instances: Instance[], selected: string | undefined): SafeHtml {
	return html`<select id="${id}" name="instance_id" required>${instances.map(
		(instance) =>
			html`<option value="${instance.id}" ${instance.id === selected && html`selected`}>${instance.displayName} (${instance.name})</option>`,
	)}</select>`;
}

/** The settings and templates of one integration, with a live preview of each template. */
export function integrationForm(
	ctx: Context,
	integration: Integration,
	instances: Instance[],
	urls: { action: string; preview: string },
	preview: (text: string) => string,
): SafeHtml {
	const field = (name: string) => `i${integration.id}-${name}`;
	const templates = TEMPLATE_EVENTS.map((event) => {
		const template = integration.templates[event];
		return html`<fieldset class="template"><legend>${event}</legend>
  <label><input type="checkbox" name="template_${event}_enabled" ${template.enabled && html`checked`}> Send on ${event}</label>
  <label for="${field(event)}" class="visually-hidden">Text for ${event}</label>
  <textarea id="${field(event)}" name="template_${event}_text" rows="3" maxlength="1024" data-template-preview="${urls.preview}">${template.text}</textarea>
  <output class="preview" for="${field(event)}" data-preview-of="${field(event)}" aria-label="Preview of ${event}">${preview(template.text)}</output>
</fieldset>`;
	});
	return html`<form method="post" action="${urls.action}" class="stack">${csrfField(ctx)}
  <label for="${field('name')}">Name</label>
  <input id="${field('name')}" name="name" value="${integration.name}" required maxlength="128">
  <label for="${field('instance')}">Sends through instance</label>
  ${instanceSelect(field('instance'), instances, integration.instanceId)}
  <label for="${field('business')}">Business name (<code>{{business_name}}</code>)</label>
  <input id="${field('business')}" name="business_name" value="${integration.businessName}" data-business-name>
  <div class="checks">${SWITCHES.map(
		(one) =>
			html`<label><input type="checkbox" name="${one.name}" ${one.of(integration) && html`checked`}> ${one.label}</label>`,
	)}</div>
  <label for="${field('window')}">Conversation window (hours)</label>
  <input id="${field('window')}" name="window_hours" type="number" min="1" value="${integration.windowHours}">
  <label for="${field('hmac')}">HMAC secret (optional, at least 16 characters)</label>
  <input id="${field('hmac')}" name="hmac_secret" type="password" autocomplete="off"
    placeholder="${integration.hmacSecret ? 'set (leave empty to keep it)' : 'not set'}">
  ${integration.hmacSecret !== null && html`<label><input type="checkbox" name="hmac_off"> Turn HMAC off</label>`}
  <label for="${field('allow')}">IP allowlist (addresses or CIDR ranges, one a line; empty allows any)</label>
  <textarea id="${field('allow')}" name="ip_allowlist" rows="2">${integration.ipAllowlist.join('\n')}</textarea>
  <label for="${field('dest')}">Forward inbound replies to (3CX's URL; empty: none)</label>
  <input id="${field('dest')}" name="destination_url" type="url" value="${integration.destinationUrl ?? ''}">
  <label for="${field('format')}">Forwarding format</label>
  <select id="${field('format')}" name="destination_format">${DESTINATION_FORMATS.map(
		(format) =>
			html`<option value="${format}" ${format === integration.destinationFormat && html`selected`}>${format}</option>`,
	)}</select>
  <label for="${field('line')}">Line number (Generic SMS "to")</label>
  <input id="${field('line')}" name="line_number" value="${integration.lineNumber ?? ''}">
  <h3>Call event templates</h3>
  <p class="hint">Variables: ${TEMPLATE_VARIABLES.map((name) => html`<code>{{${name}}}</code> `)}</p>
  ${templates}
  <button type="submit" class="button primary">Save settings</button>
</form>`;
}

/** What 3CX is told: where to post, for this integration. */
export function endpoints(integration: Integration): SafeHtml {
	return html`<p class="hint">3CX posts call events to <code>${webhookPath(integration.id)}</code> and agents' SMS to
  <code>${genericSmsPath(integration.id)}</code> (after the gateway's public URL), with the integration's secret in
  <code>${SECRET_HEADER}</code>.</p>`;
}

export function createForm(ctx: Context, instances: Instance[], action: string, accountName: string): SafeHtml {
	return html`<section class="panel"><h2>New 3CX integration</h2>
<form method="post" action="${action}" class="stack">${csrfField(ctx)}
  <label for="new-name">Name</label><input id="new-name" name="name" value="3CX" required maxlength="128">
  <label for="new-instance">Sends through instance</label>${instanceSelect('new-instance', instances, undefined)}
  <label for="new-business">Business name</label><input id="new-business" name="business_name" value="${accountName}">
  <button type="submit" class="button primary">Create integration</button>
  <p class="hint">Its secret is shown once, after creating.</p>
</form></section>`;
}
