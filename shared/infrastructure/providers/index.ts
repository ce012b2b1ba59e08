import type { InfrastructureProviderSpec } from '../../resources/kinds.ts';
import type { InfrastructureProvider, ProviderContext } from '../provider.ts';
import { localProvider } from './local.ts';

/** Not in this build yet: the provider's implementation lives on another branch until it is merged. */
export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
}

/** The implementation of an InfrastructureProvider's `type`. */
export function providerFor(spec: InfrastructureProviderSpec, context: ProviderContext): InfrastructureProvider {
  switch (spec.type) {
    case 'local':
      return localProvider(context);
    case 'cluster-api':
    case 'eks':
      throw new ProviderUnavailableError(`the ${spec.type} infrastructure provider is not part of this build of Shoal yet; use a local InfrastructureProvider`);
  }
}
