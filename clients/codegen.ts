// Typed SDK from the published schema and the operation documents clients use.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../graphql/schema.graphql",
  documents: "../graphql/operations/*.graphql",
  config: {
    scalars: { DateTime: "string" },
    enumsAsTypes: true,
    useTypeImports: true,
    strictScalars: true,
  },
  generates: {
    // Every type of the schema, for code that handles whole objects.
    "generated/schema.ts": { plugins: ["typescript"] },
    // Per-operation result and variable types (with the enums and inputs they use), and
    // a TypedDocumentNode per operation for Apollo Client and urql.
    "generated/graphql.ts": { plugins: ["typescript-operations", "typed-document-node"] },
  },
};

export default config;
