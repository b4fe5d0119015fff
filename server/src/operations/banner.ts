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
