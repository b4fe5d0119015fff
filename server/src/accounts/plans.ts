/** Seed 002's plan table plus our velocity defaults (docs/policy-and-limits.md, "Plans and limits"). */
export const PLAN_NAMES = ['starter', 'growth', 'scale'] as const;
export type PlanName = (typeof PLAN_NAMES)[number];

export interface Plan {
	name: PlanName;
	label: string;
	dailyLimit: number;
	monthlyLimit: number;
	/** GCRA rate per instance and per recipient, in sends per minute; bursts are a quarter of a minute's worth. */
	instanceRatePerMinute: number;
	recipientRatePerMinute: number;
	/** Customer webhook subscriptions an account may hold (each one takes delivery capacity). */
	webhookLimit: number;
	modules: { apiAccess: boolean; threecx: boolean };
}

export const PLANS: Record<PlanName, Plan> = {
	starter: {
		name: 'starter',
		label: 'Starter',
		dailyLimit: 100,
		monthlyLimit: 2_000,
		instanceRatePerMinute: 20,
		recipientRatePerMinute: 6,
		webhookLimit: 5,
		modules: { apiAccess: true, threecx: true },
	},
	growth: {
		name: 'growth',
		label: 'Growth',
		dailyLimit: 500,
		monthlyLimit: 10_000,
		instanceRatePerMinute: 40,
		recipientRatePerMinute: 6,
		webhookLimit: 20,
		modules: { apiAccess: true, threecx: true },
	},
	scale: {
		name: 'scale',
		label: 'Scale',
		dailyLimit: 1_500,
		monthlyLimit: 30_000,
		instanceRatePerMinute: 60,
		recipientRatePerMinute: 6,
		webhookLimit: 50,
		modules: { apiAccess: true, threecx: true },
	},
};

export function isPlanName(value: string): value is PlanName {
	return (PLAN_NAMES as readonly string[]).includes(value);
}
