// A small chat page on graphql-ws: log in with a token, talk to one other user. It keeps
// `resumeAfter` current, so a reconnect resumes where it left off, with no gap.
(function () {
  const $ = (id) => document.getElementById(id);
  const wsUrl = new URL("graphql", window.location.href).toString().replace(/^http/, "ws");
  const MESSAGE = "id seq senderId receiverId content timestamp cursor status sender { id name }";
  let client = null;
  let viewer = null;
  let peer = null;
  let resumeAfter = null;
  const shown = new Set();

  function request(query, variables) {
    return new Promise((resolve, reject) => {
      let result = null;
      client.subscribe({ query, variables }, {
        next: (value) => (result = value),
        error: reject,
        complete: () => (result && result.errors ? reject(new Error(result.errors[0].message)) : resolve(result.data)),
      });
    });
  }

  function show(message) {
    if (shown.has(message.id)) return;
    shown.add(message.id);
    const item = document.createElement("li");
    item.className = message.senderId === viewer.id ? "mine" : "theirs";
    item.dataset.id = message.id;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = `${message.sender.name} · ${new Date(message.timestamp).toLocaleTimeString()}`;
    const text = document.createElement("span");
    text.className = "content";
    text.textContent = message.content;
    item.dataset.seq = message.seq;
    item.append(meta, text);
    // Live messages and history may interleave: keep the conversation in seq order.
    const later = [...$("messages").children].find((other) => Number(other.dataset.seq) > message.seq);
    $("messages").insertBefore(item, later ?? null);
    $("messages").scrollTop = $("messages").scrollHeight;
  }

  function isOurs(message) {
    return [message.senderId, message.receiverId].includes(peer) && !message.roomId;
  }

  async function start(token, peerId) {
    peer = peerId;
    client = graphqlWs.createClient({
      url: wsUrl,
      connectionParams: () => ({ authToken: token, resumeAfter }),
      retryAttempts: Infinity,
      on: {
        connected: () => ($("status").textContent = "connected"),
        closed: () => ($("status").textContent = "reconnecting…"),
      },
    });
    const { me } = await request("query Me { me { id name } }");
    viewer = me;
    $("me").textContent = me.name;
    $("peer-name").textContent = peer;
    client.subscribe(
      { query: `subscription NewMessage { newMessage { ${MESSAGE} roomId } }` },
      {
        next: ({ data }) => {
          resumeAfter = data.newMessage.cursor;
          if (!isOurs(data.newMessage)) return;
          show(data.newMessage);
          if (data.newMessage.senderId === peer) $("typing").textContent = "";
        },
        error: (error) => ($("error").textContent = String(error.message || error)),
        complete: () => {},
      },
    );
    client.subscribe(
      { query: "subscription Presence($ids: [ID!]) { presence(userIds: $ids) { userId online } }", variables: { ids: [peer] } },
      {
        next: ({ data }) => {
          $("status").textContent = data.presence.online ? `${peer} online` : `${peer} offline`;
          $("status").classList.toggle("online", data.presence.online);
        },
        error: () => {},
        complete: () => {},
      },
    );
    client.subscribe(
      { query: "subscription Typing { typing { userId isTyping roomId } }" },
      {
        next: ({ data }) => {
          if (data.typing.userId === peer && !data.typing.roomId) {
            $("typing").textContent = data.typing.isTyping ? `${peer} is typing…` : "";
          }
        },
        error: () => {},
        complete: () => {},
      },
    );
    // History after subscribing, so that nothing sent in between is missed.
    const history = await request(
      `query Messages($withUser: ID!) { messages(withUser: $withUser, last: 50) { edges { node { ${MESSAGE} } } } }`,
      { withUser: peer },
    ).catch(() => ({ messages: { edges: [] } }));
    for (const { node } of history.messages.edges) show(node);
    const last = history.messages.edges.at(-1);
    if (resumeAfter === null && last) resumeAfter = last.node.cursor;
    $("login").hidden = true;
    $("chat").hidden = false;
    $("content").focus();
  }

  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    start($("token").value.trim(), $("peer").value.trim()).catch((error) => {
      $("error").textContent = String(error.message || error);
      $("chat").hidden = false;
    });
  });

  let lastTyping = 0;
  $("content").addEventListener("input", () => {
    if (!client || Date.now() - lastTyping < 2000) return;
    lastTyping = Date.now();
    request("mutation StartTyping($input: TypingInput!) { startTyping(input: $input) }", { input: { to: peer } }).catch(() => {});
  });

  $("compose").addEventListener("submit", async (event) => {
    event.preventDefault();
    const content = $("content").value;
    if (!content.trim()) return;
    $("content").value = "";
    $("error").textContent = "";
    try {
      const { sendMessage } = await request(
        `mutation SendMessage($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE} } }`,
        { input: { to: peer, content, clientMessageId: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}` } },
      );
      show(sendMessage);
    } catch (error) {
      $("error").textContent = String(error.message || error);
      $("content").value = content;
    }
  });
})();
