import type { InfrastructureProviderSpec } from '../../resources/kinds.ts';
import type { InfrastructureProvider, ProviderContext } from '../provider.ts';
import { clusterApiProvider } from './cluster-api.ts';
import { eksProvider } from './eks.ts';
import { localProvider } from './local.ts';

/** The implementation of an InfrastructureProvider's `type`. */
export function providerFor(spec: InfrastructureProviderSpec, context: ProviderContext): InfrastructureProvider {
  switch (spec.type) {
    case 'local':
      return localProvider(context);
    case 'cluster-api':
      return clusterApiProvider(context);
    case 'eks':
      return eksProvider(context);
  }
}
