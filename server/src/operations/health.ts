import { errorText } from '../common/error-text';

/** One check's result, as `/healthz` and `/readyz` report it. */
export interface CheckResult {
	ok: boolean;
	error?: string;
}

export interface HealthReport {
	status: 'ok' | 'unavailable';
	checks: Record<string, CheckResult>;
}

/**
 * What the probes check. The database check writes: a tiny committed upsert, because a database that
 * can still be read but no longer written (full disk, read-only file system, a file made read-only)
 * refuses every send.
 */
export class HealthChecks {
	private workerRunning = false;
	private stopping = false;

	constructor(private readonly writeProbe: () => void) {}

	/** server.ts reports the delivery worker's life; a gateway that never started it is not ready. */
	deliveryWorkerStarted(): void {
		this.workerRunning = true;
	}

	/** From the first moment of shutdown the gateway is no longer ready (load balancers stop sending). */
	shuttingDown(): void {
		this.stopping = true;
		this.workerRunning = false;
	}

	/** `/healthz`: the process answers and its database accepts writes. */
	liveness(): HealthReport {
		return report({ database: this.database() });
	}

	/** `/readyz`: also the delivery worker runs and no shutdown has begun. */
	readiness(): HealthReport {
		return report({
			database: this.database(),
			delivery_worker: this.workerRunning
				? { ok: true }
				: { ok: false, error: this.stopping ? 'shutting down' : 'not running' },
		});
	}

	private database(): CheckResult {
		try {
			this.writeProbe();
			return { ok: true };
		} catch (error) {
			return { ok: false, error: `cannot write: ${errorText(error)}` };
		}
	}
}

function report(checks: Record<string, CheckResult>): HealthReport {
	return { status: Object.values(checks).every((check) => check.ok) ? 'ok' : 'unavailable', checks };
}
