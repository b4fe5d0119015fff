import type { Command } from '@commander-js/extra-typings';
import { rotateOperatorToken } from '../../accounts/operator-token';
import { InputError } from '../../input-error';
import { jsonOption, type CliContext } from '../context';

/** `operator-token rotate`: a new generated operator token, shown once (the first start's may be lost). */
export function operatorTokenCommands(program: Command, { getConfig, withGateway, emit }: CliContext): void {
	program
		.command('operator-token')
		.description('the generated operator token (stored as a hash; GATEWAY_ADMIN_TOKEN replaces it)')
		.command('rotate')
		.description('generate a new operator token, shown once; the previous one stops working at once')
		.addOption(jsonOption())
		.action((flags) => {
			if (getConfig().adminToken) {
				throw new InputError('GATEWAY_ADMIN_TOKEN is set: it is the operator token; change it there and restart');
			}
			return withGateway((gateway) => {
				const token = rotateOperatorToken(gateway.accounts);
				emit(flags.json, { operator_token: token }, `Operator token (shown only this once): ${token}\n`);
			});
		});
}
