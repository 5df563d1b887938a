// GraphiQL for this server: queries over HTTP, subscriptions over graphql-ws on the same
// URL. The headers editor's headers go with both: the WebSocket sends them as the
// connection_init payload, which is where the server looks for `Authorization`.
(function () {
  const url = new URL(window.location.href);
  url.search = "";
  url.hash = "";
  const subscriptionUrl = url.toString().replace(/^http/, "ws");
  const fetcher = GraphiQL.createFetcher({ url: url.toString(), subscriptionUrl });
  const defaultQuery = `# Put {"Authorization": "Bearer <token>"} in Headers below
# (\`chat-server token USER_ID\` prints one), then run:
subscription {
  newMessage { id seq senderId content timestamp }
}
`;
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    }),
  );
})();
