// The Local tokens panel: served by `inmail serve` only (never by the Lambda). One click
// gets a token signed with the local secret (POST graphql/local-token, as `inmail token`
// prints) and puts {"Authorization": "Bearer ..."} in the Headers pane; the page then loads
// the schema with it.
(function () {
  "use strict";

  var h = React.createElement;
  var UI = GraphiQL.React;
  var ROLES = ["OPERATOR", "RECRUITER", "CONTRACT_ADMIN", "CANDIDATE"];

  function KeyIcon() {
    return h(
      "svg",
      { viewBox: "0 0 24 24", width: "1em", height: "1em", fill: "none", stroke: "currentColor", strokeWidth: 1.5 },
      h("circle", { cx: 8, cy: 15, r: 4 }),
      h("path", { d: "M11 12l9-9M17 6l3 3M15 8l2 2" }),
    );
  }

  function label(preset) {
    return preset.sub + " · " + preset.roles.join(", ") + (preset.contract ? " · " + preset.contract : "");
  }

  function Panel(props) {
    var config = props.config;
    var editors = UI.useEditorContext({ nonNull: true });
    var subState = React.useState("");
    var rolesState = React.useState(["RECRUITER"]);
    var contractState = React.useState("");
    var messageState = React.useState(null);
    var setMessage = messageState[1];

    function use(asked) {
      setMessage({ kind: "busy", text: "Getting a token for " + asked.sub + "…" });
      fetch(config.routesBase + config.localTokens.route, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(asked),
      })
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) throw new Error((body.errors && body.errors[0].message) || response.statusText);
            return body;
          });
        })
        .then(
          function (body) {
            editors.headerEditor.setValue(JSON.stringify({ Authorization: "Bearer " + body.token }, null, 2));
            setMessage({
              kind: "done",
              text: "Headers now hold a token for " + label(asked) + " (until " + body.expiresAt + ").",
            });
          },
          function (error) {
            setMessage({ kind: "error", text: "No token: " + error.message });
          },
        );
    }

    function toggleRole(role) {
      var roles = rolesState[0];
      rolesState[1](
        roles.indexOf(role) >= 0
          ? roles.filter(function (r) {
              return r !== role;
            })
          : roles.concat([role]),
      );
    }

    var message = messageState[0];
    return h(
      "div",
      { className: "local-tokens" },
      h("h3", null, "Local tokens"),
      h("p", null, "The local stack only. Pick who you are; the token goes into Headers."),
      h(
        "div",
        { className: "presets" },
        config.localTokens.presets.map(function (preset) {
          return h(
            "button",
            {
              key: preset.sub,
              type: "button",
              className: "graphiql-button",
              "data-sub": preset.sub,
              onClick: function () {
                use(preset);
              },
            },
            label(preset),
          );
        }),
      ),
      h(
        "form",
        {
          onSubmit: function (event) {
            event.preventDefault();
            use({ sub: subState[0].trim(), roles: rolesState[0], contract: contractState[0].trim() || null });
          },
        },
        h(
          "label",
          null,
          "Subject (sub) ",
          h("input", {
            type: "text",
            name: "sub",
            value: subState[0],
            onChange: function (e) {
              subState[1](e.target.value);
            },
          }),
        ),
        h(
          "fieldset",
          null,
          ROLES.map(function (role) {
            return h(
              "label",
              { key: role },
              h("input", {
                type: "checkbox",
                name: "role",
                value: role,
                checked: rolesState[0].indexOf(role) >= 0,
                onChange: function () {
                  toggleRole(role);
                },
              }),
              " " + role,
            );
          }),
        ),
        h(
          "label",
          null,
          "Contract (optional) ",
          h("input", {
            type: "text",
            name: "contract",
            value: contractState[0],
            onChange: function (e) {
              contractState[1](e.target.value);
            },
          }),
        ),
        h("button", { type: "submit", className: "graphiql-button" }, "Get a token"),
      ),
      message ? h("p", { className: "local-tokens-message", "data-kind": message.kind }, message.text) : null,
    );
  }

  window.InMailPlayground = window.InMailPlayground || { plugins: [] };
  window.InMailPlayground.plugins.push(function (config) {
    return {
      title: config.localTokens.title,
      icon: KeyIcon,
      content: function LocalTokensContent() {
        return h(Panel, { config: config });
      },
    };
  });
})();
