// The InMail playground: GraphiQL (vendored, see vendor/manifest.json) with a schema that
// follows the token in the Headers pane. Every operation, introspection included, needs a
// token, so GraphiQL's own start-up introspection would only show "Error fetching schema":
// this page introspects itself, with the headers the person typed, each time the
// Authorization header changes, and says in the status bar what it is waiting for.
(function () {
  "use strict";

  var h = React.createElement;
  var GQL = GraphiQL.GraphQL; // the graphql-js inside GraphiQL's bundle
  var UI = GraphiQL.React; // @graphiql/react, inside the bundle too
  var config = JSON.parse(document.getElementById("playground-config").textContent);
  var endpoint = window.location.href.split(/[?#]/)[0];
  var local = window.InMailPlayground || { plugins: [] };
  // ?q=...: a link that opens the playground with that operation in the editor (not ?query=,
  // which is an operation sent over GET: refused).
  var linkedQuery = new URLSearchParams(window.location.search).get("q") || undefined;

  var INTRO = [
    "# InMail follow-ups: the GraphQL playground",
    "#",
    "# Every operation needs a token in Headers",
    '# (below): {"Authorization": "Bearer <token>"}',
    config.localTokens
      ? "# Get one in Local tokens (the key, left)."
      : "# Get one from your identity provider.",
    "# Docs and autocompletion load with it.",
    "# Run: Ctrl-Enter or the play button.",
    "",
    "query Viewer {",
    "  viewer { id roles contractId }",
    "}",
    "",
  ].join("\n");

  // Made once: GraphiQL re-opens `visiblePlugin` whenever the plugin list changes.
  var PLUGINS = [GraphiQLPluginExplorer.explorerPlugin()].concat(
    local.plugins.map(function (make) {
      return make(config);
    }),
  );

  // The Authorization header of the Headers pane: {ok: false} while it is not JSON yet.
  function readHeaders(text) {
    if (!text || !text.trim()) return { ok: true, headers: {}, auth: null };
    var parsed;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return { ok: false };
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return { ok: false };
    var auth = null;
    Object.keys(parsed).forEach(function (name) {
      if (name.toLowerCase() === "authorization" && typeof parsed[name] === "string") auth = parsed[name].trim();
    });
    if (auth && !/^bearer\s+[^\s<>]+$/i.test(auth)) auth = null; // "Bearer <token>" is the hint, not a token
    return { ok: true, headers: parsed, auth: auth };
  }

  function post(headers, query, operationName) {
    var all = Object.assign({ "content-type": "application/json", accept: "application/json" }, headers);
    return fetch(endpoint, {
      method: "POST",
      headers: all,
      body: JSON.stringify({ query: query, operationName: operationName }),
    }).then(function (response) {
      return response.json();
    });
  }

  function refusal(body) {
    var error = (body && body.errors && body.errors[0]) || {};
    var code = (error.extensions && error.extensions.code) || "ERROR";
    return code + ": " + (error.message || "no schema in the answer");
  }

  // The schema and the viewer, fetched with the person's headers.
  function loadSchema(headers) {
    var introspection = GQL.getIntrospectionQuery({ inputValueDeprecation: true });
    return post(headers, introspection, "IntrospectionQuery").then(function (body) {
      if (!body || !body.data || !body.data.__schema) throw new Error(refusal(body));
      var schema = GQL.buildClientSchema(body.data);
      return post(headers, "query PlaygroundViewer { viewer { id roles contractId } }", "PlaygroundViewer").then(
        function (me) {
          return { schema: schema, viewer: me && me.data && me.data.viewer };
        },
      );
    });
  }

  var statusText = {
    none: function () {
      return config.localTokens
        ? "No token yet: pick one in Local tokens (the key, left), or paste " +
            '{"Authorization": "Bearer <token>"} in Headers. The docs load as soon as it is there.'
        : 'No token yet: paste {"Authorization": "Bearer <token>"} in Headers (below the query). ' +
            "The docs load as soon as it is there.";
    },
    invalid: function () {
      return "Headers is not JSON yet: it must read {\"Authorization\": \"Bearer <token>\"}.";
    },
    loading: function () {
      return "Loading the schema with this token…";
    },
    ready: function (s) {
      var v = s.viewer;
      var who = v ? v.id + " (" + v.roles.join(", ") + (v.contractId ? ", contract " + v.contractId : "") + ")" : "this token";
      return "Ready: docs and autocompletion loaded. Operations run as " + who + ".";
    },
    refused: function (s) {
      return (
        "The server refused this token (" + s.message + "). It may have expired (12 hours locally) " +
        "or come from another data dir: get a new one."
      );
    },
  };

  // Rendered inside GraphiQL (its toolbar), where the editors are: reports every change of
  // the Headers pane, the one restored from the last visit included.
  function HeaderWatcher(props) {
    var editors = UI.useEditorContext();
    var headerEditor = editors && editors.headerEditor;
    var onHeaders = props.onHeaders;
    React.useEffect(
      function () {
        if (!headerEditor) return undefined;
        var timer = null;
        function changed() {
          clearTimeout(timer);
          timer = setTimeout(function () {
            onHeaders(headerEditor.getValue());
          }, 150);
        }
        onHeaders(headerEditor.getValue());
        headerEditor.on("change", changed);
        return function () {
          clearTimeout(timer);
          headerEditor.off("change", changed);
        };
      },
      [headerEditor, onHeaders],
    );
    return null;
  }

  function App() {
    var schemaState = React.useState(null);
    var statusState = React.useState({ kind: "none" });
    var setSchema = schemaState[1];
    var setStatus = statusState[1];
    var last = React.useRef({ auth: undefined, request: 0 });

    var onHeaders = React.useCallback(function (text) {
      var read = readHeaders(text);
      if (!read.ok) {
        setStatus(function (s) {
          return s.kind === "invalid" ? s : { kind: "invalid", previous: s };
        });
        return;
      }
      if (read.auth === last.current.auth) {
        setStatus(function (s) {
          return s.kind === "invalid" ? s.previous || { kind: "none" } : s;
        });
        return;
      }
      last.current.auth = read.auth;
      var request = ++last.current.request;
      if (!read.auth) {
        setSchema(null);
        setStatus({ kind: "none" });
        return;
      }
      setStatus({ kind: "loading" });
      loadSchema(read.headers).then(
        function (loaded) {
          if (request !== last.current.request) return;
          setSchema(loaded.schema);
          setStatus({ kind: "ready", viewer: loaded.viewer });
        },
        function (error) {
          if (request !== last.current.request) return;
          setSchema(null);
          setStatus({ kind: "refused", message: error.message });
        },
      );
    }, []);

    var status = statusState[0];
    return h(
      React.Fragment,
      null,
      h("div", { id: "playground-status", role: "status", "data-state": status.kind }, statusText[status.kind](status)),
      h(
        "div",
        { id: "graphiql" },
        h(GraphiQL, {
          fetcher: GraphiQL.createFetcher({ url: endpoint }),
          // null: no schema and no start-up introspection until a token is there.
          schema: schemaState[0],
          defaultQuery: INTRO,
          query: linkedQuery,
          defaultEditorToolsVisibility: "headers",
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: true,
          inputValueDeprecation: true,
          plugins: PLUGINS,
          visiblePlugin: config.localTokens ? config.localTokens.title : undefined,
          toolbar: { additionalContent: h(HeaderWatcher, { onHeaders: onHeaders }) },
        }),
      ),
    );
  }

  var root = document.getElementById("playground");
  ReactDOM.createRoot(root).render(h(App));
})();
