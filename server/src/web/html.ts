/**
 * HTML built from tagged templates: every interpolated value is escaped unless it is already `SafeHtml`
 * (the result of another `html` template or of `raw`). Arrays are joined, `undefined`/`null`/`false`
 * render as nothing, so `${cond && html`…`}` and `${items.map(…)}` read naturally.
 */
export class SafeHtml {
	constructor(readonly value: string) {}
	toString(): string {
		return this.value;
	}
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | HtmlValue[];

function render(value: HtmlValue): string {
	if (value === undefined || value === null || value === false) return '';
	if (value instanceof SafeHtml) return value.value;
	if (Array.isArray(value)) return value.map(render).join('');
	return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
	let out = strings[0];
	for (let i = 0; i < values.length; i += 1) out += render(values[i]) + strings[i + 1];
	return new SafeHtml(out);
}

/** Markup the gateway produced itself (a rendered Markdown page, an inline SVG chart): never user input. */
export function raw(markup: string): SafeHtml {
	return new SafeHtml(markup);
}
