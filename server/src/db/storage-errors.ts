/**
 * SQLite refusing writes for a while: a full disk (SQLITE_FULL), a lock held too long by another process
 * (SQLITE_BUSY), an I/O error (SQLITE_IOERR_*). These may pass: requests answer 503 and background work
 * tries again later. Anything else (a read-only file, a constraint, a bug) is not expected to pass by waiting.
 */
export function isTransientStorageError(error: unknown): boolean {
	const code = (error as { code?: unknown } | null)?.code;
	return typeof code === 'string' && /^SQLITE_(FULL|BUSY|IOERR)/.test(code);
}
