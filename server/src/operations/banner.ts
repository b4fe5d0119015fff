/** What the first start set up (bootstrap.ts), as its banner shows it. */
export interface BootstrapBannerFacts {
	apiKey: string;
	instanceId: string;
	instanceName: string;
}

/**
 * What the first start prints: the API key and demo instance it created, where everything is, a test send
 * and the next step (connect n8n).
 */
export function bootstrapBanner(
	facts: BootstrapBannerFacts,
	operatorToken: string | undefined,
	baseUrl: string,
): string {
	const lines = [
		'',
		'WhatsApp Gateway is set up for the first time. Keep these; they are not shown again.',
		`  API key:            ${facts.apiKey}`,
		`  Instance:           ${facts.instanceName} (${facts.instanceId}, sandbox provider)`,
		`  Gateway URL:        ${baseUrl}`,
		`  API description:    ${baseUrl}/openapi.json   Docs: ${baseUrl}/docs`,
		`  Dashboard:          ${baseUrl}/login   (sign in with the operator token)`,
		operatorToken ? `  Operator token:     ${operatorToken}` : '  Operator token:     the value of GATEWAY_ADMIN_TOKEN',
		'',
		'Send a test message (the sandbox delivers nothing to WhatsApp):',
		`  curl -s -X POST ${baseUrl}/api/send-message \\`,
		`    -H "Authorization: Bearer ${facts.apiKey}" -H "Content-Type: application/json" \\`,
		`    -d '{"instance_id":"${facts.instanceName}","phone":"+966501234567","message":"Your order #2041 has shipped.","message_purpose":"transactional"}'`,
		'',
		'Next, connect n8n (README, "Connect n8n"): install the nodes, then create a "WhatsApp Gateway API"',
		`credential with Base URL ${baseUrl} and the API key above.`,
		'',
	];
	return `${lines.join('\n')}\n`;
}

/** An operator token generated on a start that did not set up the database (the CLI made its first account). */
export function operatorTokenBanner(operatorToken: string): string {
	return `\nOperator token (shown once, keep it): ${operatorToken}\n\n`;
}

/** The CLI commands that replace lost first-start secrets, on this data folder. */
function replacements(dataDir: string, what: { apiKey: boolean; operatorToken: boolean }): string[] {
	const cli = `npx whatsapp-gateway --data-dir ${dataDir}`;
	const lines: string[] = [];
	if (what.apiKey) lines.push(`${cli} keys create --account 1     (a new API key)`);
	if (what.operatorToken) lines.push(`${cli} operator-token rotate     (a new operator token)`);
	return lines.map((line, index) => `${index === 0 ? '  Lost them?  ' : '              '}${line}`);
}

/**
 * What stdout says when it is not a terminal (a service's log): where the secrets were written and how to
 * replace them, never the secrets themselves (operations/one-time-secrets.ts).
 */
export function secretsFileNotice(
	file: string,
	facts: { baseUrl: string; dataDir: string; firstStart: boolean; apiKey: boolean; operatorToken: boolean },
): string {
	const secrets = [facts.apiKey && 'API key', facts.operatorToken && 'operator token'].filter(Boolean).join(' and ');
	const lines = [
		'',
		facts.firstStart
			? 'WhatsApp Gateway is set up for the first time.'
			: 'WhatsApp Gateway generated an operator token.',
		`  Its ${secrets} ${facts.apiKey && facts.operatorToken ? 'are' : 'is'} in ${file}`,
		"  (readable by the gateway's user only). This output is not a terminal, so no secret is written to it.",
		`  Read the file as that user (or with sudo), keep the secrets somewhere safe, then delete it.`,
		...replacements(facts.dataDir, facts),
		`  Gateway URL: ${facts.baseUrl}   Dashboard: ${facts.baseUrl}/login   Docs: ${facts.baseUrl}/docs`,
		'',
	];
	return `${lines.join('\n')}\n`;
}

/**
 * What a restart prints (the first start prints the full set-up banner instead): where the gateway is,
 * and how to get a key, since the first start's key may be long gone.
 */
export function restartBanner(baseUrl: string): string {
	const lines = [
		'',
		`WhatsApp Gateway is running at ${baseUrl}`,
		`  Dashboard:  ${baseUrl}/login   Docs: ${baseUrl}/docs   Health: ${baseUrl}/healthz`,
		'  New API key: npx whatsapp-gateway keys create --account 1   (accounts list shows the ids)',
	];
	return `${lines.join('\n')}\n\n`;
}
