/** An error's message; not through `instanceof Error`, which fails for errors from another realm (jest, vm). */
export function errorText(error: unknown): string {
	const message = (error as { message?: unknown } | null)?.message;
	return typeof message === 'string' ? message : 'unknown error';
}
