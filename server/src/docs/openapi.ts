import { VERSION } from '../version';
import document from './openapi.json';

/**
 * Our OpenAPI 3 document: seed 001 unchanged, plus our additions (docs/design-notes.md, "API additions").
 * `info.version` is the server's version, whatever the file says, so the document names the gateway it came from.
 */
export const openApiDocument: Readonly<Record<string, unknown>> = {
	...document,
	info: { ...document.info, version: VERSION },
};
