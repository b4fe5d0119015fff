import { iso } from '../common/iso';
import type { Suppression } from './service';

export const suppressionJson = (suppression: Suppression) => ({
	account_id: suppression.accountId,
	phone: suppression.phone,
	reason: suppression.reason,
	source: suppression.source,
	created_at: iso(suppression.createdAt),
});
