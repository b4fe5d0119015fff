import document from './openapi.json';

/** Our OpenAPI 3 document: seed 001 unchanged, plus our additions (README "API additions"). */
export const openApiDocument: Readonly<Record<string, unknown>> = document;
