import { ApiError } from '../http/errors';
import type { Reached } from './attempt';

interface Trail {
	reached: Reached;
}

export type GuardOutcome<Out> = { passed: Out } | { refused: ApiError; reached: Reached };

/**
 * An ordered list of guards as data (docs/contributing.md, "Guards are data"). `check` adds a guard that passes
 * by returning and refuses by throwing an ApiError; `then` adds a step that also establishes something and
 * returns the attempt at its next stage, so a later guard can only read what an earlier one set; `pipe`
 * joins two lists. The send-check order itself is defined once, in `send-pipeline.ts`, and every caller
 * composes it.
 */
export class GuardList<In extends Reached, Out extends Reached> {
	private constructor(private readonly steps: (start: In, trail: Trail) => Out) {}

	static start<T extends Reached>(): GuardList<T, T> {
		return new GuardList<T, T>((start, trail) => {
			trail.reached = start;
			return start;
		});
	}

	check(guard: (attempt: Out) => void): GuardList<In, Out> {
		return new GuardList<In, Out>((start, trail) => {
			const attempt = this.steps(start, trail);
			guard(attempt);
			return attempt;
		});
	}

	then<Next extends Out>(step: (attempt: Out) => Next): GuardList<In, Next> {
		return new GuardList<In, Next>((start, trail) => {
			const next = step(this.steps(start, trail));
			trail.reached = next;
			return next;
		});
	}

	/** Runs `rest` after this list's guards: the way a caller's own steps and the shared ones join into one list. */
	pipe<Next extends Out>(rest: GuardList<Out, Next>): GuardList<In, Next> {
		return new GuardList<In, Next>((start, trail) => rest.steps(this.steps(start, trail), trail));
	}

	/** Runs every guard in order, synchronously: a refusal says how far the attempt got. */
	run(start: In): GuardOutcome<Out> {
		const trail: Trail = { reached: start };
		try {
			return { passed: this.steps(start, trail) };
		} catch (error) {
			if (error instanceof ApiError) return { refused: error, reached: trail.reached };
			throw error;
		}
	}
}
