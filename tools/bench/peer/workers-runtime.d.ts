// The few Cloudflare Workflows APIs the bench's Workflows peer
// (jobs-workflow.ts) uses, declared here instead of pulling in
// `@cloudflare/workers-types`, whose globals clash with Node's. workerd
// provides the module at run time; nothing in Node imports it.

declare module "cloudflare:workers" {
	export interface WorkflowEvent<Params> {
		payload: Readonly<Params>;
		timestamp: Date;
		instanceId: string;
	}

	export interface WorkflowStepConfig {
		retries?: { limit: number; delay: string | number; backoff?: "constant" | "linear" | "exponential" };
		timeout?: string | number;
	}

	export interface WorkflowStep {
		do<T>(name: string, callback: () => Promise<T>): Promise<T>;
		do<T>(name: string, config: WorkflowStepConfig, callback: () => Promise<T>): Promise<T>;
		waitForEvent<T>(
			name: string,
			options: { type: string; timeout?: string | number },
		): Promise<{ payload: T; timestamp: Date; type: string }>;
	}

	export abstract class WorkflowEntrypoint<Env = unknown, Params = unknown> {
		protected readonly env: Env;
		constructor(ctx: unknown, env: Env);
		abstract run(event: Readonly<WorkflowEvent<Params>>, step: WorkflowStep): Promise<unknown>;
	}
}
