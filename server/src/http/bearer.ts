/** The token of an `Authorization: Bearer <token>` header (API keys and the operator token alike). */
export function bearerToken(authorization: string | undefined): string | undefined {
	return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')?.[1];
}
