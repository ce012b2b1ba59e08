import { createDependencies } from '../../shared/dependencies.ts';
import { providerFor } from '../../shared/infrastructure/providers/index.ts';
import { createInfrastructureReconciler } from '../../shared/reconcilers/infrastructure.ts';
import { createReconcilerHandler } from '../../shared/reconcilers/runtime.ts';
import { reconcilerDefinition } from '../../shared/reconcilers/triggers.ts';

export const handler = createReconcilerHandler(createInfrastructureReconciler(providerFor), reconcilerDefinition('infrastructure'), createDependencies());
