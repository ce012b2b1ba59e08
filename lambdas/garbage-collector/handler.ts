import { createDependencies } from '../../shared/dependencies.ts';
import { garbageCollector } from '../../shared/reconcilers/garbage-collector.ts';
import { createReconcilerHandler } from '../../shared/reconcilers/runtime.ts';
import { reconcilerDefinition } from '../../shared/reconcilers/triggers.ts';

export const handler = createReconcilerHandler(garbageCollector, reconcilerDefinition('garbage-collector'), createDependencies());
