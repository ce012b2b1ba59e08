// What test/integration/global-setup.ts hands to the integration tests through `provide`.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the local control plane's REST API, e.g. http://127.0.0.1:43117. */
    shoalServer: string;
    /** DynamoDB Local endpoint of that control plane (real streams). */
    dynamodbEndpoint: string;
    /** The control plane's secret store setting, `file:<dir>`. */
    secretStore: string;
  }
}

export {};
