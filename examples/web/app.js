// The browser example: Autobahn|JS joins the router that served this page
// (WAMP at /ws on the same port), calls the typed catalog service of
// examples/src/web.rs and shows the ticker's events as they come.
"use strict";

const wsUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
const realm = new URLSearchParams(location.search).get("realm") || "realm1";

const $ = (id) => document.getElementById(id);
const status = (text, cls) => {
  $("status").textContent = text;
  $("status").className = cls;
};

// An error as the CLI prints it: the URI, then args and kwargs as JSON.
function describeError(err) {
  if (!err || !err.error) {
    return String(err);
  }
  let text = err.error;
  if (err.args && err.args.length) {
    text += " " + JSON.stringify(err.args);
  }
  if (err.kwargs && Object.keys(err.kwargs).length) {
    text += " " + JSON.stringify(err.kwargs);
  }
  return text;
}

let session = null;

$("get-name").addEventListener("click", () => {
  if (!session) {
    return;
  }
  const id = $("item").value.trim();
  const result = $("result");
  result.textContent = "…";
  result.className = "pending";
  session.call("com.example.web.item." + id + ".get_name").then(
    (name) => {
      result.textContent = name;
      result.className = "ok";
    },
    (err) => {
      result.textContent = describeError(err);
      result.className = "error";
    }
  );
});

function onTick(args, kwargs) {
  const line = "#" + args[0] + " at " + (kwargs && kwargs.time);
  $("tick").textContent = line;
  const item = document.createElement("li");
  item.textContent = line;
  const list = $("events");
  list.prepend(item);
  while (list.children.length > 10) {
    list.lastChild.remove();
  }
}

const connection = new autobahn.Connection({ url: wsUrl, realm: realm, max_retries: -1 });

connection.onopen = (s) => {
  session = s;
  status("connected: session " + s.id + " on " + wsUrl + ", realm " + realm, "ok");
  $("get-name").disabled = false;
  s.subscribe("com.example.web.on_tick", onTick).catch((err) => {
    status("subscribe failed: " + describeError(err), "error");
  });
};

connection.onclose = (reason, details) => {
  session = null;
  $("get-name").disabled = true;
  status("disconnected (" + reason + "); retrying", "pending");
  return false; // keep reconnecting
};

connection.open();
