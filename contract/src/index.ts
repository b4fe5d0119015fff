/**
 * The contract the gateway and the n8n nodes share, in one place: the webhook signature, the
 * Idempotency-Key rule, the sixteen event types and their groups, the 3CX event types. The gateway imports
 * this package (`whatsapp-gateway-contract`); the nodes import the files in src/ by relative path, and the
 * root tsconfig.json compiles them into the published package's dist/, which may have no runtime
 * dependencies. So: dependency-free, `node:crypto` only.
 */
export * from './signature';
export * from './idempotency';
export * from './events';
export * from './threecx-events';
