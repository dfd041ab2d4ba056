/**
 * The admin page's script, part 2: the provisioning log, the per-user timeline, the events
 * view, and wiring. Shares scope with page-js-core.ts (el, api, setMsg, timeEl, ...).
 * Same rules: text only into the DOM, no backtick or "${" in the script.
 */
export const PAGE_JS_VIEWS = `
/**
 * Mirrors events-api.ts: the states an admin may resend one by one (REDELIVERABLE), and the
 * ones POST /events/redeliver takes as {"state"} (BULK_REDELIVERABLE, not delivered history).
 * Should the two drift, the API answers 409 with a reason, which the page shows.
 */
var REDELIVERABLE = ["undeliverable", "rejected", "dead", "retrying", "queued", "delivered"];
var BULK_REDELIVERABLE = ["undeliverable", "rejected", "dead", "retrying", "queued"];
var STATE_ORDER = ["pending", "queued", "retrying", "held", "undeliverable", "rejected", "dead", "dry_run", "delivered", "discarded"];
var PAGE_SIZE = "50";
var logCursor = null;
var eventsCursor = null;

function emptyRow(columns, text) {
  return el("tr", { className: "empty" }, [el("td", { colspan: columns, text: text })]);
}

/** A table cell labelled with its column, for the stacked narrow-screen layout. */
function td(label, content, className) {
  return el("td", { "data-label": label, className: className }, [content]);
}

function textList(items) {
  if (!items || items.length === 0) return "—";
  return el("ul", {}, items.map(function (t) { return el("li", { text: t }); }));
}

function userLink(resourceType, resourceId) {
  if (!resourceId) return "—";
  if (resourceType !== "User") return (resourceType ? resourceType + " " : "") + resourceId;
  return el("button", {
    type: "button",
    className: "link",
    text: resourceId,
    "aria-label": "Show the timeline of user " + resourceId,
    onclick: function () { showTimeline(resourceId); },
  });
}

// ---------------------------------------------------------------- provisioning log

function logRow(e) {
  var status = el("div", {}, [
    el("span", { className: e.status < 400 ? "status-ok" : "status-err", text: String(e.status) }),
    e.detail ? el("div", { className: "hint", text: e.detail }) : null,
  ]);
  return el("tr", { "data-seq": e.seq, "data-resource-id": e.resourceId || "" }, [
    td("Time", timeEl(e.at)),
    td("Method", e.method),
    td("Path", e.path, "path"),
    td("Status", status),
    td("User", userLink(e.resourceType, e.resourceId)),
    td("IdP quirk tolerated", textList(e.quirks)),
    td("Decision", textList(e.decisions)),
  ]);
}

async function loadLog(append) {
  var msg = $("log-msg");
  var params = new URLSearchParams();
  var q = $("log-q").value.trim();
  var user = $("log-user").value.trim();
  var outcome = $("log-outcome").value;
  if (q) params.set("q", q);
  if (user) params.set("resourceId", user);
  if (outcome) params.set("outcome", outcome);
  params.set("limit", PAGE_SIZE);
  if (append && logCursor) params.set("cursor", logCursor);
  setMsg(msg, "Loading…");
  try {
    var data = await api("GET", "/log?" + params.toString());
    var body = $("log-body");
    if (!append) body.replaceChildren();
    data.entries.forEach(function (e) { body.append(logRow(e)); });
    logCursor = data.nextCursor;
    $("log-more").hidden = !logCursor;
    var n = body.children.length;
    setMsg(msg, n === 0 ? "No matching requests." : n + (n === 1 ? " request" : " requests") + " shown, newest first" + (logCursor ? "; older ones below." : "."));
  } catch (err) {
    showError(msg, "Could not load the log: ", err);
  }
}

// ---------------------------------------------------------------- timeline

function timelineItem(item) {
  var li = el("li", { className: "kind-" + item.kind, "data-kind": item.kind, "data-event-id": item.kind === "event" ? item.id : null });
  li.append(el("span", { className: "when" }, [timeEl(item.at)]));
  if (item.kind === "request") {
    li.append(el("span", { className: "what", text: item.method + " " + item.path + " → " + item.status }));
    if (item.detail) li.append(el("div", { className: "hint", text: item.detail }));
    if (item.quirks.length) li.append(el("div", {}, ["IdP quirk tolerated: ", textList(item.quirks)]));
    if (item.decisions.length) li.append(el("div", {}, ["Decision: ", textList(item.decisions)]));
    return li;
  }
  li.append(el("span", { className: "what", text: "Event " + item.type + " (version " + item.resourceVersion + ")" }));
  var delivery = "Delivery: ";
  var parts = [el("span", { className: "state state-" + item.state, text: item.state }), ", " + item.attempts + (item.attempts === 1 ? " attempt" : " attempts")];
  if (item.lastStatus) parts.push(", last answer HTTP " + item.lastStatus);
  if (item.lastError) parts.push(": " + item.lastError);
  li.append(el("div", {}, [delivery].concat(parts)));
  if (item.deliveredAt) li.append(el("div", {}, ["Delivered ", timeEl(item.deliveredAt)]));
  var actions = eventActions(item, function () { loadTimeline(); });
  if (actions.children.length) li.append(actions);
  return li;
}

async function loadTimeline() {
  var msg = $("timeline-msg");
  var list = $("timeline-list");
  var id = $("timeline-id").value.trim();
  if (!id) {
    setMsg(msg, "Enter a user id (the User column of the log links here).", "error");
    $("timeline-id").focus();
    return;
  }
  setMsg(msg, "Loading…");
  try {
    var data = await api("GET", "/users/" + encodeURIComponent(id) + "/timeline");
    list.replaceChildren();
    data.items.forEach(function (item) { list.append(timelineItem(item)); });
    var n = data.items.length;
    var count = n + (n === 1 ? " entry" : " entries") + ", newest first" + (data.truncated.requests || data.truncated.events ? " (the most recent only)" : "") + ".";
    if (data.found) {
      var u = data.user;
      setMsg(msg, "User " + u.userName + " — role " + u.role + ", " + (u.active ? "active" : "deactivated") + ". " + count);
    } else {
      setMsg(msg, "No user with id " + id + " exists now (never created, or deleted). " + (n ? "Its recorded history: " + count : "Nothing was recorded for it."));
    }
  } catch (err) {
    list.replaceChildren();
    showError(msg, "Could not load the timeline: ", err);
  }
}

function showTimeline(id) {
  $("timeline-id").value = id;
  loadTimeline();
  $("timeline").scrollIntoView();
}

// ---------------------------------------------------------------- events

async function eventAction(button, path, body, done, doneText) {
  var msg = $("events-msg");
  button.disabled = true;
  try {
    var result = await api("POST", path, body);
    setMsg(msg, doneText(result || {}), "ok");
  } catch (err) {
    showError(msg, "Not done: ", err);
  } finally {
    button.disabled = false;
  }
  await done();
}

/** Buttons for one event: redeliver a failed or delivered one, release or discard a held one. */
function eventActions(ev, afterwards) {
  var box = el("div", { className: "cell-actions" });
  var done = async function () { await loadEvents(false); if (afterwards) afterwards(); };
  var name = ev.type + " " + ev.id;
  if (REDELIVERABLE.indexOf(ev.state) !== -1) {
    box.append(el("button", {
      type: "button", className: "secondary", text: "Redeliver", "aria-label": "Redeliver event " + name,
      onclick: function (e) {
        eventAction(e.currentTarget, "/events/" + encodeURIComponent(ev.id) + "/redeliver", undefined, done, function (r) {
          return "Event " + ev.id + " sent again" + (r.state ? " (now " + r.state + ")" : "") + ".";
        });
      },
    }));
  }
  if (ev.state === "held") {
    box.append(el("button", {
      type: "button", className: "secondary", text: "Release", "aria-label": "Release held event " + name,
      onclick: function (e) {
        eventAction(e.currentTarget, "/events/release-held", { ids: [ev.id] }, done, function () { return "Event " + ev.id + " released for delivery."; });
      },
    }));
    box.append(el("button", {
      type: "button", className: "danger", text: "Discard", "aria-label": "Discard held event " + name,
      onclick: function (e) {
        if (!window.confirm("Discard event " + name + "? The main site will never receive it.")) return;
        eventAction(e.currentTarget, "/events/discard-held", { ids: [ev.id] }, done, function () { return "Event " + ev.id + " discarded."; });
      },
    }));
  }
  return box;
}

function eventRow(ev) {
  var last = [];
  if (ev.lastStatus) last.push("HTTP " + ev.lastStatus);
  if (ev.lastError) last.push(ev.lastError);
  return el("tr", { "data-event-id": ev.id, "data-state": ev.state }, [
    td("Created", timeEl(ev.createdAt)),
    td("Type", ev.type, "mono"),
    td("User or group", userLink(ev.resourceType, ev.resourceId)),
    td("State", el("span", { className: "state state-" + ev.state, text: ev.state })),
    td("Attempts", String(ev.attempts)),
    td("Last result", last.length ? last.join(": ") : "—"),
    td("Delivered", timeEl(ev.deliveredAt)),
    td("Actions", eventActions(ev)),
  ]);
}

/** A banner whenever events are held by the deprovisioning guard or dead after every retry. */
function renderBanner(counts) {
  var parts = [];
  var held = counts && counts.held > 0 ? counts.held : 0;
  var dead = counts && counts.dead > 0 ? counts.dead : 0;
  if (held) parts.push(held + (held === 1 ? " event is" : " events are") + " held by the deprovisioning guard: release or discard them under Events.");
  if (dead) parts.push(dead + (dead === 1 ? " event is" : " events are") + " dead after every retry: redeliver them under Events.");
  var banner = $("alert-banner");
  banner.textContent = parts.join(" ");
  banner.hidden = parts.length === 0;
}

function renderCounts(counts) {
  renderBanner(counts);
  var ul = $("event-counts");
  ul.replaceChildren();
  STATE_ORDER.forEach(function (state) {
    var n = counts && typeof counts[state] === "number" ? counts[state] : 0;
    ul.append(el("li", {}, [el("span", { className: "state state-" + state, text: state.replace("_", " ") + ": " + n })]));
  });
  $("release-held").disabled = !(counts && counts.held > 0);
  $("discard-held").disabled = !(counts && counts.held > 0);
}

async function loadEvents(append) {
  var msg = $("events-msg");
  var params = new URLSearchParams();
  var state = $("events-state").value;
  var bulk = $("redeliver-state");
  bulk.hidden = BULK_REDELIVERABLE.indexOf(state) === -1;
  bulk.textContent = "Redeliver all " + state + " events";
  if (state) params.set("state", state);
  params.set("limit", PAGE_SIZE);
  if (append && eventsCursor) params.set("cursor", eventsCursor);
  try {
    var data = await api("GET", "/events?" + params.toString());
    renderCounts(data.counts);
    var body = $("events-body");
    if (!append) body.replaceChildren();
    data.events.forEach(function (ev) { body.append(eventRow(ev)); });
    eventsCursor = data.nextCursor;
    $("events-more").hidden = !eventsCursor;
    if (body.children.length === 0) body.append(emptyRow(8, "No events in this view."));
  } catch (err) {
    showError(msg, "Could not load events: ", err);
  }
}

function onBulkHeld(kind) {
  return function (e) {
    var release = kind === "release";
    var question = release
      ? "Release every held event? Held deactivations and deletions will be delivered to the main site."
      : "Discard every held event? The main site will never receive them.";
    if (!window.confirm(question)) return;
    eventAction(e.currentTarget, release ? "/events/release-held" : "/events/discard-held", {}, function () { return loadEvents(false); }, function (r) {
      return release ? (r.released || 0) + " held events released." : (r.discarded || 0) + " held events discarded.";
    });
  };
}

/** E.g. every dead event after the main site was down longer than the retries last. */
function onRedeliverState(e) {
  var state = $("events-state").value;
  if (BULK_REDELIVERABLE.indexOf(state) === -1) return;
  if (!window.confirm("Send every " + state + " event to the main site again?")) return;
  eventAction(e.currentTarget, "/events/redeliver", { state: state }, function () { return loadEvents(false); }, function (r) {
    return (r.redelivered || 0) + " " + state + " events sent again.";
  });
}

// ---------------------------------------------------------------- wiring

function submitTo(formId, handler) {
  $(formId).addEventListener("submit", function (ev) { ev.preventDefault(); handler(); });
}

// ---------------------------------------------------------------- role re-evaluation

var jobTimer = null;

/** The newest role re-evaluation: a progress bar while it runs, its result when it is done. */
async function loadRoleJob() {
  var box = $("roles-job");
  var data;
  try {
    data = await api("GET", "/jobs");
  } catch (err) {
    return;
  }
  var job = data.jobs && data.jobs[0];
  if (jobTimer) clearTimeout(jobTimer);
  jobTimer = null;
  if (!job) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  var progress = $("roles-job-progress");
  progress.max = Math.max(1, job.total);
  progress.value = Math.min(job.processed, progress.max);
  var label = $("roles-job-label");
  var counts = job.processed + " of " + job.total + " users, " + job.changed + " changed, " + job.kept + " kept by a setting";
  if (job.state === "running") {
    label.textContent = "Re-evaluating every user's role";
    setMsg($("roles-job-msg"), "Running (" + job.reason + "): " + counts + ".");
    jobTimer = setTimeout(loadRoleJob, 1500);
  } else {
    label.textContent = "Last role re-evaluation";
    setMsg($("roles-job-msg"), job.state + " (" + job.reason + "): " + counts + (job.error ? ". " + job.error : "."));
  }
}

setInterval(function () {
  if (token) loadEvents(false);
}, 30000);

function start() {
  $("base-url").value = location.origin + "/api/scim/v2";
  $("login-form").addEventListener("submit", onLogin);
  $("signout").addEventListener("click", function () { signOut(""); });
  $("settings-form").addEventListener("submit", onSaveSettings);
  $("copy-url").addEventListener("click", onCopyUrl);
  $("reload-groups").addEventListener("click", loadGroups);
  submitTo("log-form", function () { loadLog(false); });
  $("log-outcome").addEventListener("change", function () { loadLog(false); });
  $("log-more").addEventListener("click", function () { loadLog(true); });
  submitTo("timeline-form", loadTimeline);
  submitTo("events-form", function () { loadEvents(false); });
  $("events-state").addEventListener("change", function () { loadEvents(false); });
  $("events-more").addEventListener("click", function () { loadEvents(true); });
  $("release-held").addEventListener("click", onBulkHeld("release"));
  $("discard-held").addEventListener("click", onBulkHeld("discard"));
  $("redeliver-state").addEventListener("click", onRedeliverState);
  var saved = null;
  try { saved = sessionStorage.getItem(TOKEN_KEY); } catch (e) { saved = null; }
  if (saved) tryToken(saved, true);
  else showLogin("");
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
`;
