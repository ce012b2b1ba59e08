import { createDependencies } from '../../shared/dependencies.ts';
import { clusterProbe } from '../../shared/reconcilers/cluster-probe.ts';
import { createReconcilerHandler } from '../../shared/reconcilers/runtime.ts';
import { reconcilerDefinition } from '../../shared/reconcilers/triggers.ts';

export const handler = createReconcilerHandler(clusterProbe, reconcilerDefinition('cluster-probe'), createDependencies());
