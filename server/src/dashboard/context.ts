import type { Context } from 'koa';
import type { OperatorCheck } from '../accounts/auth';
import type { Account, AccountService } from '../accounts/service';
import type { Clock } from '../clock';
import type { InboundService } from '../events/inbound';
import type { WebhookService } from '../events/webhooks';
import type { Instance, InstanceService } from '../instances/service';
import type { GatewayMetrics } from '../operations/metrics';
import type { SuppressionService } from '../suppressions/service';
import type { Logger } from '../logger';
import type { Messaging } from '../messaging';
import type { InstanceConnector } from '../providers/connector';
import type { IntegrationService } from '../threecx/integrations';
import type { ThreecxService } from '../threecx/service';
import { PageError } from '../web/page';
import type { DashboardSessions } from './sessions';
import { wholeNumber } from './view';

/**
 * What the dashboard's pages use: the areas' services, never their tables. Each page module takes what
 * it needs from here; routes.ts fills it in.
 */
export interface DashboardDeps {
	clock: Clock;
	logger: Logger;
	isOperator: OperatorCheck;
	sessions: DashboardSessions;
	/** The gateway is reached over https (GATEWAY_PUBLIC_URL): the session cookie is marked Secure. */
	secureCookies: boolean;
	/** GATEWAY_PUBLIC_URL: forms may come from its host too (see checkCsrf). */
	publicUrl: string;
	accounts: AccountService;
	instances: InstanceService;
	connector: InstanceConnector;
	/** Where a provider's webhooks go for an instance (Cloud: pasted into Meta's dashboard). */
	webhookUrl: (instance: Instance) => string | undefined;
	webhooks: WebhookService;
	/** The send pipeline (test sends) and its message log (usage, searches, one message's history). */
	messaging: Messaging;
	threecxIntegrations: IntegrationService;
	threecx: ThreecxService;
	suppressions: SuppressionService;
	inbound: InboundService;
	metrics: GatewayMetrics;
}

/**
 * The account a page is about: `?account=ID`, else the first account (a small business has one).
 * An unknown id is a 404 page, not a silent switch to another account.
 */
export function pickAccount(
	ctx: Context,
	accounts: Pick<AccountService, 'list' | 'find'>,
): { account: Account; accounts: Account[] } {
	const all = accounts.list();
	const asked = ctx.query.account;
	if (typeof asked === 'string' && asked !== '') {
		const id = wholeNumber(asked);
		const account = id === undefined ? undefined : accounts.find(id);
		if (!account) throw new PageError(404, `There is no account ${asked}.`);
		return { account, accounts: all };
	}
	if (all.length === 0)
		throw new PageError(404, 'There is no account yet. Create one with `whatsapp-gateway accounts create`.');
	return { account: all[0], accounts: all };
}
