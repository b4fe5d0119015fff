import path from 'node:path';
import type MarkdownIt from 'markdown-it';
import { pathOfFile } from './catalog';

type Token = MarkdownIt.Token;

/** The served page a README link goes to: the README itself is not served, the docs overview stands in for it. */
const README_TARGET = '/docs';

/**
 * Where a link in a docs file goes when served: another docs file → its page (the anchor kept); the
 * README → the docs overview; a web address, an anchor or a gateway path → unchanged; any other file of
 * the repository (source, examples) → `{ repositoryFile }`, shown as text: the gateway does not serve it.
 */
export function servedHref(href: string): { href: string } | { repositoryFile: string } {
	// An anchor, a web address, or a path of the gateway itself (`/docs/api`, `/login`): as written.
	if (/^[#/]/.test(href) || /^[a-z][a-z0-9+.-]*:/i.test(href)) return { href };
	const hashAt = href.indexOf('#');
	const target = hashAt === -1 ? href : href.slice(0, hashAt);
	const fragment = hashAt === -1 ? '' : href.slice(hashAt);
	// Links are relative to docs/; resolve them against the repository's root.
	const file = path.posix.normalize(path.posix.join('docs', target));
	if (file === 'README.md') return { href: README_TARGET };
	const served = path.posix.dirname(file) === 'docs' ? pathOfFile(path.posix.basename(file)) : undefined;
	return served ? { href: served + fragment } : { repositoryFile: file };
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens; repeats get -1, -2. */
export function headingSlug(text: string, taken: Map<string, number>): string {
	const base = text
		.trim()
		.toLowerCase()
		.replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
		.replace(/ /g, '-');
	const seen = taken.get(base);
	taken.set(base, (seen ?? -1) + 1);
	return seen === undefined ? base : `${base}-${seen + 1}`;
}

function addHeadingIds(tokens: Token[]): void {
	const taken = new Map<string, number>();
	tokens.forEach((token, index) => {
		if (token.type !== 'heading_open') return;
		const inline = tokens[index + 1];
		const text = (inline.children ?? [])
			.map((child) => (child.type === 'text' || child.type === 'code_inline' ? child.content : ''))
			.join('');
		token.attrSet('id', headingSlug(text, taken));
	});
}

function rewriteLinks(tokens: Token[]): void {
	for (const inline of tokens) {
		let open: Token | undefined;
		for (const token of inline.children ?? []) {
			if (token.type === 'link_open') {
				const target = servedHref(String(token.attrGet('href') ?? ''));
				if ('href' in target) {
					token.attrSet('href', target.href);
					open = undefined;
				} else {
					token.type = 'repository_file_open';
					token.meta = { file: target.repositoryFile };
					open = token;
				}
			} else if (token.type === 'link_close' && open) {
				token.type = 'repository_file_close';
				open = undefined;
			}
		}
	}
}

async function createRenderer(): Promise<MarkdownIt.MarkdownIt> {
	const { default: MarkdownIt } = await import('markdown-it');
	// html: false: raw HTML in a file is shown as text, never passed through (the pages' CSP stays strict).
	const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
	md.core.ruler.push('gateway_docs', (state) => {
		addHeadingIds(state.tokens);
		rewriteLinks(state.tokens);
	});
	const rules = md.renderer.rules;
	rules.repository_file_open = (tokens, index) =>
		`<span class="repository-file" title="${md.utils.escapeHtml(`${(tokens[index].meta as { file: string }).file} in the gateway's repository`)}">`;
	rules.repository_file_close = () => '</span>';
	// Wide tables scroll inside their own box on a phone instead of widening the page.
	rules.table_open = () => '<div class="table-wrap"><table>\n';
	rules.table_close = () => '</table></div>\n';
	return md;
}

/** Made by the first page rendered: markdown-it is loaded then, not when the gateway starts. */
let renderer: Promise<MarkdownIt.MarkdownIt> | undefined;

/** One docs file as HTML: GitHub-style tables, fenced code, heading anchors, links pointed at the served pages. */
export async function renderMarkdown(source: string): Promise<string> {
	renderer ??= createRenderer();
	return (await renderer).render(source);
}
