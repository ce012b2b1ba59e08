import { createDependencies } from '../../shared/dependencies.ts';
import { scheduler } from '../../shared/reconcilers/scheduler.ts';
import { createReconcilerHandler } from '../../shared/reconcilers/runtime.ts';
import { reconcilerDefinition } from '../../shared/reconcilers/triggers.ts';

export const handler = createReconcilerHandler(scheduler, reconcilerDefinition('scheduler'), createDependencies());
