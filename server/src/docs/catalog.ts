/**
 * Every docs page the gateway serves, and the Markdown file in the repository's `docs/` folder it is
 * rendered from: the one table the sidebar, the routes, the link rewriting and the tests read.
 */
export interface DocPage {
	/** The served path. */
	path: string;
	/** The Markdown file in `docs/`. */
	file: string;
	/** The sidebar's label and the page's title. */
	title: string;
}

/** Seed 002's "Portal Paths", in the seed's order. */
export const PORTAL_PAGES: readonly DocPage[] = [
	{ path: '/docs', file: 'overview.md', title: 'Docs Overview' },
	{ path: '/docs/quickstart', file: 'quickstart.md', title: 'Quickstart' },
	{ path: '/docs/connect', file: 'connect-whatsapp.md', title: 'Connect' },
	{ path: '/docs/send', file: 'api.md', title: 'Send' },
	{ path: '/docs/receive', file: 'events.md', title: 'Receive' },
	{ path: '/docs/responsible-messaging', file: 'policy-and-limits.md', title: 'Responsible Messaging' },
	{ path: '/docs/3cx', file: '3cx.md', title: '3CX Middleware Overview' },
	{ path: '/docs/3cx/webhooks', file: '3cx-webhooks.md', title: '3CX Webhook Reference' },
	{ path: '/docs/3cx/call-events', file: '3cx-call-events.md', title: '3CX Call Event Templates' },
	{ path: '/docs/3cx/troubleshooting', file: '3cx-troubleshooting.md', title: '3CX Middleware Troubleshooting' },
	{ path: '/docs/endpoints', file: 'endpoints.md', title: 'Endpoints' },
	{ path: '/docs/troubleshooting', file: 'troubleshooting.md', title: 'Troubleshooting' },
];

/** The README's other reference pages and the policy page: served too, so that every link between docs resolves. */
export const REFERENCE_PAGES: readonly DocPage[] = [
	{ path: '/acceptable-use', file: 'acceptable-use.md', title: 'Acceptable Use' },
	{ path: '/docs/n8n', file: 'n8n.md', title: 'n8n nodes' },
	{ path: '/docs/production', file: 'production.md', title: 'Production' },
	{ path: '/docs/dashboard', file: 'dashboard.md', title: 'Dashboard' },
	{ path: '/docs/cli', file: 'cli.md', title: 'CLI' },
	{ path: '/docs/configuration', file: 'configuration.md', title: 'Configuration' },
	{ path: '/docs/design-notes', file: 'design-notes.md', title: 'Design notes' },
	{ path: '/docs/benchmarks', file: 'benchmarks.md', title: 'Benchmarks' },
	{ path: '/docs/development', file: 'development.md', title: 'Development' },
	{ path: '/docs/architecture', file: 'architecture.md', title: 'Architecture' },
	{ path: '/docs/contributing', file: 'contributing.md', title: 'Contributing' },
];

export const DOC_PAGES: readonly DocPage[] = [...PORTAL_PAGES, ...REFERENCE_PAGES];

/** The API reference page (Swagger UI over `/openapi.json`), listed in the sidebar after the Markdown pages. */
export const API_REFERENCE = { path: '/docs/api', title: 'API reference' } as const;

/** The served path of a docs file (`events.md`), if it is served. */
export function pathOfFile(file: string): string | undefined {
	return DOC_PAGES.find((page) => page.file === file)?.path;
}
