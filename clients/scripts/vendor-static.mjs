// Copies the browser builds the server serves (GraphiQL for /graphql, graphql-ws for the
// demo page) from node_modules into server/static/vendor/, so that a pip install serves
// them with no CDN and no npm. Run after changing their versions in package.json.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const target = new URL("../../server/static/vendor/", import.meta.url);
const files = {
  react: ["umd/react.production.min.js", "LICENSE"],
  "react-dom": ["umd/react-dom.production.min.js", "LICENSE"],
  graphiql: ["graphiql.min.js", "graphiql.min.css", "LICENSE"],
  "graphql-ws": ["umd/graphql-ws.min.js", "LICENSE.md"],
};

rmSync(target, { recursive: true, force: true });
const versions = [];
for (const [name, paths] of Object.entries(files)) {
  const root = new URL(`../node_modules/${name}/`, import.meta.url);
  const { version } = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
  versions.push(`${name}@${version}`);
  mkdirSync(new URL(`${name}/`, target), { recursive: true });
  for (const path of paths) {
    copyFileSync(new URL(path, root), new URL(`${name}/${path.split("/").pop()}`, target));
  }
}
writeFileSync(new URL("VERSIONS", target), versions.join("\n") + "\n");
console.log(`vendored ${versions.join(", ")}`);
