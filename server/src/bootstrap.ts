import { createHash, timingSafeEqual } from 'node:crypto';
import { randomBase62 } from './accounts/keys';
import type { Gateway } from './gateway';

export const DEMO_INSTANCE_NAME = 'demo-support-line';
const ADMIN_TOKEN_SETTING = 'admin_token_sha256';

export interface BootstrapResult {
  accountId: number;
  instanceId: string;
  apiKey: string;
}

/**
 * First start on an empty database: a Starter account, the `demo-support-line` sandbox instance and one
 * API key, so a newcomer can send a message straight away. Does nothing when any account exists.
 */
export function bootstrapIfEmpty(gateway: Gateway, options: { timeZone: string }): BootstrapResult | undefined {
  if (gateway.accounts.list().length > 0) return undefined;
  return gateway.db.transaction(() => {
    const account = gateway.accounts.create({ name: 'Default account', plan: 'starter', timeZone: options.timeZone });
    const instance = gateway.instances.create({
      accountId: account.id,
      name: DEMO_INSTANCE_NAME,
      displayName: 'Demo Support Line',
      provider: 'sandbox',
      connectionState: 'connected',
    });
    const { key } = gateway.accounts.createKey(account.id, 'bootstrap');
    return { accountId: account.id, instanceId: instance.id, apiKey: key };
  })();
}

/**
 * Without GATEWAY_ADMIN_TOKEN, the first start generates an operator token (whatever the database
 * holds already) and returns it to be shown once; only its hash is kept.
 */
export function ensureOperatorToken(gateway: Gateway, configured: string | undefined): string | undefined {
  if (configured || gateway.accounts.getSetting(ADMIN_TOKEN_SETTING) !== undefined) return undefined;
  const token = `wg_admin_${randomBase62(40)}`;
  gateway.accounts.setSetting(ADMIN_TOKEN_SETTING, sha256(token));
  return token;
}

/** Checks an operator token against GATEWAY_ADMIN_TOKEN, or the generated one stored at first start. */
export function verifyAdminToken(gateway: Gateway, configured: string | undefined, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = configured ? sha256(configured) : gateway.accounts.getSetting(ADMIN_TOKEN_SETTING);
  if (!expected) return false;
  return timingSafeEqual(Buffer.from(sha256(presented), 'hex'), Buffer.from(expected, 'hex'));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
