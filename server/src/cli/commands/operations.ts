import type { Command } from '@commander-js/extra-typings';
import { readMigrations } from '../../db';
import { lockDataDir } from '../../db/lock';
import { backupDatabase, restoreDatabase } from '../../db/backup';
import { errorText } from '../../common/error-text';
import { jsonOption, type CliContext } from '../context';

/** `backup <file>` and `restore <file>`: README "Backups" is the user's guide to both. */
export function operationCommands(program: Command, { getConfig, emit }: CliContext): void {
	program
		.command('backup <file>')
		.description('write an online, consistent copy of the database to <file> (safe while the gateway runs)')
		.option('--force', 'overwrite <file> if it exists')
		.addOption(jsonOption())
		.action(async (file, flags) => {
			const info = await backupDatabase(getConfig().databasePath, file, { overwrite: flags.force });
			emit(
				flags.json,
				info,
				`backup written: ${info.file} (${info.bytes} bytes, schema version ${info.schema_version}, check ${info.check})\n`,
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
