import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** Names no one can own or reach: RFC 2606 and RFC 6761's reserved top-level domains and example domains. */
const RESERVED = /[.@](invalid|example|test|localhost)\b|\bexample\.(com|org|net)\b/i;

describe('the published n8n package: its metadata and the README npm packs with it', () => {
	it('names no homepage or repository that does not exist; its author address is the one placeholder n8n requires', () => {
		// npm's page for a package that was never published, and a repository nobody can clone, mislead;
		// absent says the truth until the package has real ones (docs/development.md, "Publishing the n8n package").
		expect(pkg.homepage).toBeUndefined();
		expect(pkg.repository).toBeUndefined();
		expect(pkg.bugs).toBeUndefined();
		// n8n's community rules (strict mode) require an author with an email; until the project has a mailbox the
		// address is in the reserved .invalid domain, so nothing can ever reach a stranger through it.
		expect(pkg.author).toEqual({ name: expect.any(String), email: expect.stringMatching(/@[\w-]+\.invalid$/) });
		expect(JSON.stringify({ homepage: pkg.homepage, repository: pkg.repository })).not.toMatch(RESERVED);
	});

	it('packs the root README, which speaks to n8n users first and stays short', () => {
		// npm always packs the root README.md: its first section is how to put the nodes into n8n.
		const sections = [...readme.matchAll(/^## (.+)$/gm)].map((match) => match[1]);
		expect(sections[0]).toBe('Connect n8n');
		const n8n = readme.slice(readme.indexOf('## Connect n8n'), readme.indexOf(`## ${sections[1]}`));
		for (const needed of ['WhatsApp Gateway Trigger', 'npm install --omit=peer', '](docs/n8n.md)']) {
			expect(n8n).toContain(needed);
		}
		// Short: what it is, the quick start and where to go next; the rest lives in docs/.
		expect(readme.split('\n').filter((line) => line.trim() !== '').length).toBeLessThan(120);
		// It tells the reader of a packed copy (no docs/ folder beside it) where a gateway serves the docs.
		expect(readme).toContain('/docs/n8n');
	});
});
