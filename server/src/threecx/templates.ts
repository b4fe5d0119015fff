/**
 * The call events that may send a WhatsApp template (seed 002 "3CX Call Event Templates"), their default
 * texts and the variables a template may use. `call_ended` is opt-in: most calls that ended were answered.
 */
export const TEMPLATE_EVENTS = ['missed_call', 'voicemail', 'call_ended', 'queue_callback', 'after_hours'] as const;
export type TemplateEvent = (typeof TEMPLATE_EVENTS)[number];

export const TEMPLATE_VARIABLES = ['customer_phone', 'agent_extension', 'queue', 'call_time', 'business_name'] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

export interface Template {
	enabled: boolean;
	text: string;
}

export type Templates = Record<TemplateEvent, Template>;

export const DEFAULT_TEMPLATES: Templates = {
	missed_call: {
		enabled: true,
		text: 'Hello, this is {{business_name}}. Sorry we missed your call. Reply here and we will get back to you.',
	},
	voicemail: {
		enabled: true,
		text: 'Hello, this is {{business_name}}. Thank you for your voicemail. We will get back to you soon.',
	},
	call_ended: {
		enabled: false,
		text: 'Thank you for calling {{business_name}}. If anything is still open, reply here.',
	},
	queue_callback: {
		enabled: true,
		text: 'Hello, this is {{business_name}}. We received your callback request for queue {{queue}} and will call you back.',
	},
	after_hours: {
		enabled: true,
		text: 'Thank you for calling {{business_name}}. We are closed right now and will reply when we open.',
	},
};

export function isTemplateEvent(value: string): value is TemplateEvent {
	return (TEMPLATE_EVENTS as readonly string[]).includes(value);
}

/** Stored overrides over the defaults: `{"missed_call": {"enabled": true, "text": "…"}}`. */
export function mergeTemplates(stored: Partial<Record<TemplateEvent, Partial<Template>>>): Templates {
	const merged = {} as Templates;
	for (const event of TEMPLATE_EVENTS) merged[event] = { ...DEFAULT_TEMPLATES[event], ...stored[event] };
	return merged;
}

/** Names in `{{…}}` that are not template variables, so an operator hears about a typo when saving it. */
export function unknownVariables(text: string): string[] {
	const names = [...text.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((match) => match[1]);
	return names.filter((name) => !(TEMPLATE_VARIABLES as readonly string[]).includes(name));
}

/** `{{name}}` (spaces allowed inside the braces) becomes its value; an absent value renders as nothing. */
export function renderTemplate(text: string, values: Partial<Record<TemplateVariable, string>>): string {
	return text
		.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, name: string) =>
			(TEMPLATE_VARIABLES as readonly string[]).includes(name) ? (values[name as TemplateVariable] ?? '') : whole,
		)
		.replace(/[ \t]{2,}/g, ' ')
		.trim();
}
