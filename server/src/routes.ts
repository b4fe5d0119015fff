import type Router from '@koa/router';
import type Koa from 'koa';
import { requireApiKey, requireOperator, type OperatorCheck } from './accounts/auth';
import { accountRoutes } from './accounts/routes';
import type { AccountService } from './accounts/service';
import type { Clock } from './clock';
import { dashboardRoutes } from './dashboard';
import type { DashboardSessions } from './dashboard/sessions';
import { docsPageRoutes } from './docs/pages';
import { docsRoutes } from './docs/routes';
import type { InboundService } from './events/inbound';
import { webhookRoutes } from './events/routes';
import type { WebhookService } from './events/webhooks';
import { createApp } from './http/app';
import { instanceRoutes } from './instances/routes';
import type { Instance, InstanceService } from './instances/service';
import type { Logger } from './logger';
import type { Messaging } from './messaging';
import { messagingRoutes } from './messaging/routes';
import type { HealthChecks } from './operations/health';
import { sendMetricsMiddleware, type GatewayMetrics } from './operations/metrics';
import { operationsRoutes } from './operations/routes';
import type { CloudProvider } from './providers/cloud';
import type { InstanceConnector } from './providers/connector';
import type { ProviderInbound } from './providers/inbound';
import { operatorInstanceRoutes } from './providers/operator-routes';
import { providerRoutes } from './providers/routes';
import type { SuppressionService } from './suppressions/service';
import type { Threecx } from './threecx';
import { threecxRoutes } from './threecx/routes';
import { VERSION } from './version';
import { assetRoutes } from './web/assets';

/** The services the HTTP application's routers are built from (the Gateway holds them all). */
export interface AppServices {
	readonly clock: Clock;
	readonly logger: Logger;
	readonly accounts: AccountService;
	readonly instances: InstanceService;
	readonly suppressions: SuppressionService;
	readonly messaging: Messaging;
	readonly inbound: InboundService;
	readonly providerInbound: ProviderInbound;
	readonly connector: InstanceConnector;
	readonly cloud: CloudProvider;
	readonly webhooks: WebhookService;
	readonly threecx: Threecx;
	readonly health: HealthChecks;
	readonly metrics: GatewayMetrics;
	readonly dashboardSessions: DashboardSessions;
	readonly isOperator: OperatorCheck;
	webhookUrl(instance: Instance): string | undefined;
}

export interface AppSettings {
	/** Behind a reverse proxy (GATEWAY_TRUST_PROXY). */
	trustProxy: boolean;
	/** The gateway's public URL: the dashboard's links, and secure cookies when it is https. */
	publicUrl: string;
}

/** The HTTP application: one router per area, each given only what it uses. */
export function gatewayApp(services: AppServices, settings: AppSettings): Koa {
	return createApp({
		clock: services.clock,
		logger: services.logger,
		trustProxy: settings.trustProxy,
		routers: apiRouters(services, settings.publicUrl),
		pages: pageRouters(services, settings.publicUrl),
		observers: [sendMetricsMiddleware(services.metrics)],
	});
}

/** The JSON API's routers. */
function apiRouters(services: AppServices, publicUrl: string): Router[] {
	const { clock, isOperator, accounts, instances, messaging, webhooks, threecx } = services;
	const apiKey = requireApiKey(accounts);
	return [
		docsRoutes({ version: VERSION, publicUrl }),
		accountRoutes({ requireApiKey: apiKey, usage: (account) => messaging.log.usage(account) }),
		instanceRoutes({ requireApiKey: apiKey, instances }),
		messagingRoutes({ clock, requireApiKey: apiKey, messaging }),
		webhookRoutes({ requireApiKey: apiKey, webhooks }),
		providerRoutes({ isOperator, instances, providerInbound: services.providerInbound, cloud: services.cloud }),
		operatorInstanceRoutes({
			isOperator,
			accounts,
			instances,
			connector: services.connector,
			webhookUrl: (instance) => services.webhookUrl(instance),
		}),
		operationsRoutes({
			requireOperator: requireOperator(isOperator),
			health: services.health,
			metrics: services.metrics,
		}),
		threecxRoutes({
			clock,
			isOperator,
			accounts,
			integrations: threecx.integrations,
			threecx: threecx.service,
			rateLimit: threecx.rateLimit,
		}),
	];
}

/** The HTML pages' routers: assets, docs and the dashboard. */
function pageRouters(services: AppServices, publicUrl: string): Router[] {
	return [
		assetRoutes(),
		docsPageRoutes({ logger: services.logger }),
		dashboardRoutes({
			clock: services.clock,
			logger: services.logger,
			isOperator: services.isOperator,
			sessions: services.dashboardSessions,
			secureCookies: publicUrl.startsWith('https://'),
			publicUrl,
			accounts: services.accounts,
			instances: services.instances,
			connector: services.connector,
			webhookUrl: (instance) => services.webhookUrl(instance),
			webhooks: services.webhooks,
			messaging: services.messaging,
			threecxIntegrations: services.threecx.integrations,
			threecx: services.threecx.service,
			suppressions: services.suppressions,
			inbound: services.inbound,
			metrics: services.metrics,
		}),
	];
}
