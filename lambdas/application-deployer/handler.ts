import { createDependencies } from '../../shared/dependencies.ts';
import { applicationDeployer } from '../../shared/reconcilers/application-deployer.ts';
import { createReconcilerHandler } from '../../shared/reconcilers/runtime.ts';
import { reconcilerDefinition } from '../../shared/reconcilers/triggers.ts';

export const handler = createReconcilerHandler(applicationDeployer, reconcilerDefinition('application-deployer'), createDependencies());
