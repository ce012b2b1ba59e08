import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { requestFromEvent, resultFromResponse } from '../../shared/api/apigateway.ts';
import { ResourceService } from '../../shared/api/resource-service.ts';
import { ShoalApi } from '../../shared/api/router.ts';
import { createDependencies } from '../../shared/dependencies.ts';
import { logger } from '../../shared/observability.ts';

const { store, secrets } = createDependencies();
const api = new ShoalApi(new ResourceService(store, secrets));

export const handler = middy(async (event: APIGatewayProxyEvent) => resultFromResponse(await api.handle(requestFromEvent(event)))).use(
  injectLambdaContext(logger),
);
