import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ApiRequest, ApiResponse } from './router.ts';

/** API Gateway REST proxy event → transport-neutral request. */
export function requestFromEvent(event: APIGatewayProxyEvent): ApiRequest {
  const query: Record<string, string | undefined> = { ...(event.queryStringParameters ?? {}) };
  const body = event.body && event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return { method: event.httpMethod, path: event.path, query, headers: { ...(event.headers ?? {}) }, body };
}

export function resultFromResponse(response: ApiResponse): APIGatewayProxyResult {
  return { statusCode: response.statusCode, headers: response.headers, body: response.body };
}
