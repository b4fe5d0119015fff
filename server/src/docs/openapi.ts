import { VERSION } from '../version';
import document from './openapi.json';

/**
 * Our OpenAPI 3 document for a gateway at `publicUrl`: the published contract's paths and schemas, plus our
 * additions (docs/design-notes.md, "API additions"). `info.version` is the server's version and `servers`
 * lists this gateway alone, so "Try it out" in the API reference can only send a key to the gateway that
 * served the page, never to a host named in a document.
 */
export function openApiDocument(publicUrl: string): Readonly<Record<string, unknown>> {
	return {
		...document,
		info: { ...document.info, version: VERSION },
		servers: [{ url: publicUrl, description: 'This gateway' }],
	};
}
