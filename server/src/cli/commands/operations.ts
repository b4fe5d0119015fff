import type { Command } from '@commander-js/extra-typings';
import { readMigrations } from '../../db';
import { lockDataDir } from '../../db/lock';
import { backupDatabase, backupRotating, restoreDatabase, type BackupInfo } from '../../db/backup';
import { errorText } from '../../common/error-text';
import { jsonOption, wholeNumber, type CliContext } from '../context';

/** `backup <file>` and `restore <file>`: docs/production.md, "Backups", is the user's guide to both. */
export function operationCommands(program: Command, { getConfig, emit }: CliContext): void {
	program
		.command('backup <file>')
		.description('write an online, consistent copy of the database to <file> (safe while the gateway runs)')
		.option('--force', 'overwrite <file> if it exists')
		.option(
			'--keep <copies>',
			'<file> is a folder: write a dated copy (gateway-<UTC time>.db) into it and keep the newest <copies>',
			wholeNumber,
		)
		.addOption(jsonOption())
		.action(async (file, flags) => {
			const { databasePath } = getConfig();
			if (flags.keep !== undefined && flags.force) throw new Error('--force does not apply with --keep');
			const info: BackupInfo & { pruned?: string[] } =
				flags.keep === undefined
					? await backupDatabase(databasePath, file, { overwrite: flags.force })
					: await backupRotating(databasePath, file, flags.keep, new Date());
			const pruned = (info.pruned ?? []).map((old) => `deleted the older copy ${old}\n`).join('');
			emit(
				flags.json,
				info,
				`backup written: ${info.file} (${info.bytes} bytes, schema version ${info.schema_version}, check ${info.check})\n${pruned}`,
			);
		});

	program
		.command('restore <file>')
		.description('replace the database with a backup (stop the gateway first; the current database is kept beside it)')
		.addOption(jsonOption())
		.action((file, flags) => {
			const config = getConfig();
			let lock;
			try {
				lock = lockDataDir(config.dataDir);
			} catch (error) {
				throw new Error(`refusing to restore: ${errorText(error)}`);
			}
			try {
				const result = restoreDatabase(config.databasePath, file, readMigrations(), new Date());
				const data = {
					database: config.databasePath,
					restored_from: result.restored.file,
					schema_version: result.restored.schema_version,
					previous: result.previous ?? null,
				};
				emit(
					flags.json,
					data,
					`restored ${config.databasePath} from ${result.restored.file}` +
						`${result.previous ? `\nthe replaced database is kept as ${result.previous}` : ''}\n`,
				);
			} finally {
				lock.release();
			}
		});
}
