import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import { gatewayApiError, gatewayApiRequest, isSuccess } from './transport';

interface GatewayInstance {
	id: string;
	name: string;
	display_name: string | null;
	paused: boolean;
}

function label(instance: GatewayInstance): string {
	const title = `${instance.display_name || instance.name} (${instance.name})`;
	return instance.paused ? `${title} – paused for review` : title;
}

/** `GET /api/instances`, shown as "Display Name (name)"; the value is the instance id. */
export async function searchInstances(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const response = await gatewayApiRequest.call(this, 'GET', '/api/instances');
	if (!isSuccess(response)) throw gatewayApiError(this.getNode(), response);

	const { instances } = response.body as { instances: GatewayInstance[] };
	const search = filter?.trim().toLowerCase() ?? '';
	const matches = (instance: GatewayInstance) =>
		search === '' || `${label(instance)} ${instance.id}`.toLowerCase().includes(search);
	return {
		results: instances.filter(matches).map((instance) => ({ name: label(instance), value: instance.id })),
	};
}
