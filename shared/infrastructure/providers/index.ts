import type { InfrastructureProviderSpec } from '../../resources/kinds.ts';
import type { InfrastructureProvider, ProviderContext } from '../provider.ts';
import { clusterApiProvider } from './cluster-api.ts';
import { eksProvider } from './eks.ts';
import { localProvider } from './local.ts';

function create(spec: InfrastructureProviderSpec, context: ProviderContext): InfrastructureProvider {
  switch (spec.type) {
    case 'local':
      return localProvider(context);
    case 'cluster-api':
      return clusterApiProvider(context);
    case 'eks':
      return eksProvider(context);
  }
}

/** Per context (one per Lambda container), one provider per spec: their SDK clients and assumed-role credentials are reused. */
const cache = new WeakMap<ProviderContext, Map<string, InfrastructureProvider>>();

/** The implementation of an InfrastructureProvider's `type`. */
export function providerFor(spec: InfrastructureProviderSpec, context: ProviderContext): InfrastructureProvider {
  let providers = cache.get(context);
  if (!providers) cache.set(context, (providers = new Map()));
  const id = JSON.stringify(spec);
  let provider = providers.get(id);
  if (!provider) providers.set(id, (provider = create(spec, context)));
  return provider;
}
