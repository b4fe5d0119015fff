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

/**
 * What a restart prints (the first start prints the full set-up banner instead): where the gateway is,
 * and how to get a key, since the first start's key may be long gone. An operator token generated on
 * this start (a database made by the CLI before the first `serve`) is shown here, once.
 */
export function restartBanner(baseUrl: string, operatorToken: string | undefined): string {
	const lines = [
		'',
		`WhatsApp Gateway is running at ${baseUrl}`,
		`  Dashboard:  ${baseUrl}/login   Docs: ${baseUrl}/docs   Health: ${baseUrl}/healthz`,
		'  New API key: npx whatsapp-gateway keys create --account 1   (accounts list shows the ids)',
	];
	if (operatorToken) lines.push('', `Operator token (shown once, keep it): ${operatorToken}`);
	return `${lines.join('\n')}\n\n`;
}
