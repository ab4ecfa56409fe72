import diagnostics from 'node:diagnostics_channel';
import { LIFECYCLE_CHANNEL, type LifecycleStep } from '@renkei/runtime';

/** Records the lifecycle steps services publish (in this process) until `stop`. */
export function recordLifecycle(service?: string): { steps: string[]; stop(): void } {
  const steps: string[] = [];
  const listener = (message: unknown) => {
    const step = message as LifecycleStep;
    if (service === undefined || step.service === service) steps.push(step.step);
  };
  diagnostics.subscribe(LIFECYCLE_CHANNEL, listener);
  return { steps, stop: () => diagnostics.unsubscribe(LIFECYCLE_CHANNEL, listener) };
}
