/**
 * The admin page's script, part 1: DOM helpers, the admin API client, sign-in and settings.
 * Plain browser JavaScript in a string (no build step); page-js-views.ts holds the log,
 * timeline and events views, and page.ts serves both as one file inside one function scope.
 *
 * Rules this code keeps, because the log shows what an IdP (or anyone with the SCIM token) sent:
 * every value reaches the DOM through textContent / Text nodes, never innerHTML; the admin
 * token lives in sessionStorage and travels only as an Authorization header (no cookies).
 * String.raw keeps backslashes verbatim; the script must not contain a backtick or "${".
 */
export const PAGE_JS_CORE = String.raw`
var TOKEN_KEY = "scim-admin-token";
var token = null;

function $(id) {
  var node = document.getElementById(id);
  if (!node) throw new Error("missing element #" + id);
  return node;
}

/** Builds an element; children may be nodes or strings (appended as text, never parsed). */
function el(tag, props, children) {
  var node = document.createElement(tag);
  Object.keys(props || {}).forEach(function (key) {
    var value = props[key];
    if (value === undefined || value === null) return;
    if (key === "text") node.textContent = String(value);
    else if (key === "className") node.className = value;
    else if (key === "onclick") node.addEventListener("click", value);
    else node.setAttribute(key, String(value));
  });
  (children || []).forEach(function (child) {
    if (child !== undefined && child !== null) node.append(child);
  });
  return node;
}

function setMsg(node, text, kind) {
  node.textContent = text || "";
  node.className = "msg" + (kind ? " " + kind : "");
}

/** "2026-04-01T12:34:56.789Z" → a <time> showing "2026-04-01 12:34:56 UTC". */
function timeEl(iso) {
  if (!iso) return "—";
  var shown = String(iso).replace("T", " ").replace(/\.\d+Z$/, "").replace(/Z$/, "") + " UTC";
  return el("time", { datetime: iso, title: iso, text: shown });
}

function ApiError(status, detail) {
  this.status = status;
  this.message = detail;
}
ApiError.prototype = Object.create(Error.prototype);

/**
 * One admin API call. A 401 on a signed-in session means the token was rotated or is wrong:
 * forget it and ask again, with the reason. tokenOverride is the token being tried at sign-in.
 */
async function api(method, path, body, tokenOverride) {
  var bearer = tokenOverride || token;
  var headers = { Accept: "application/json" };
  if (bearer) headers.Authorization = "Bearer " + bearer;
  var init = { method: method, headers: headers, credentials: "omit", cache: "no-store", redirect: "error" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  var res;
  try {
    res = await fetch("/admin/api" + path, init);
  } catch (err) {
    throw new ApiError(0, "Could not reach the admin API (" + (err && err.message ? err.message : String(err)) + ").");
  }
  var text = await res.text();
  var data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (!res.ok) {
    var detail = data && typeof data.detail === "string" ? data.detail : "HTTP " + res.status + ".";
    if (res.status === 401 && !tokenOverride) {
      signOut("The admin API refused the saved token (401 Unauthorized): " + detail + " Sign in again.");
    }
    throw new ApiError(res.status, detail);
  }
  return data;
}

/** Errors worth showing next to a control; a 401 already sent the user back to sign-in. */
function showError(node, prefix, err) {
  if (err && err.status === 401) return;
  setMsg(node, prefix + (err && err.message ? err.message : String(err)), "error");
}

// ---------------------------------------------------------------- sign-in

function showLogin(message) {
  $("app").hidden = true;
  $("signout").hidden = true;
  $("login").hidden = false;
  setMsg($("login-msg"), message || "", message ? "error" : "");
  $("admin-token").value = "";
  $("admin-token").focus();
}

function signOut(message) {
  token = null;
  try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage disabled: nothing kept */ }
  showLogin(message);
}

async function tryToken(candidate, fromStorage) {
  setMsg($("login-msg"), "Checking the token…");
  var settings;
  try {
    settings = await api("GET", "/settings", undefined, candidate);
  } catch (err) {
    if (err.status === 401) {
      showLogin(
        (fromStorage ? "The saved admin token is no longer accepted (401 Unauthorized). " : "That admin token was not accepted (401 Unauthorized). ") +
          "Enter the value of the Worker secret ADMIN_TOKEN (locally: ADMIN_TOKEN in .dev.vars). Server said: " + err.message
      );
    } else {
      showLogin("Could not sign in: " + err.message);
    }
    return;
  }
  token = candidate;
  try { sessionStorage.setItem(TOKEN_KEY, candidate); } catch (e) { /* kept in memory for this page only */ }
  setMsg($("login-msg"), "");
  $("login").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = false;
  renderSettings(settings);
  loadGroups();
  loadLog(false);
  loadEvents(false);
  loadRoleJob();
}

function onLogin(ev) {
  ev.preventDefault();
  var candidate = $("admin-token").value.trim();
  if (!candidate) {
    setMsg($("login-msg"), "Enter the admin token.", "error");
    $("admin-token").focus();
    return;
  }
  tryToken(candidate, false);
}

// ---------------------------------------------------------------- settings

/** The groups GET /admin/api/groups listed last ({id, displayName, members}), or null. */
var groupsList = null;

/** "None", every known group, and the selected id even if it is not (or no longer) listed. */
function fillGroupSelect(select, selected) {
  var groups = groupsList || [];
  var options = [el("option", { value: "", text: "None" })];
  groups.forEach(function (g) {
    options.push(el("option", { value: g.id, text: g.displayName + " (" + g.members + (g.members === 1 ? " member)" : " members)") }));
  });
  if (selected && !groups.some(function (g) { return g.id === selected; })) {
    options.push(el("option", { value: selected, text: groupsList ? "Group " + selected + " (not found)" : "Group " + selected }));
  }
  select.replaceChildren.apply(select, options);
  select.value = selected || "";
}

async function loadGroups() {
  var msg = $("groups-msg");
  try {
    var data = await api("GET", "/groups");
    groupsList = data.groups;
    setMsg(msg, groupsList.length ? "" : "No groups yet: push groups from your IdP (Okta: Push Groups), then reload.");
  } catch (err) {
    showError(msg, "Could not load the groups: ", err);
  }
  // Keep what the admin picked but has not saved yet.
  fillGroupSelect($("moderatorGroup"), $("moderatorGroup").value);
  fillGroupSelect($("adminGroup"), $("adminGroup").value);
}

function renderSettings(s) {
  $("scim-on").checked = s.scimEnabled === true;
  $("scim-off").checked = s.scimEnabled !== true;
  $("allowModeratorPromotion").checked = s.allowModeratorPromotion === true;
  $("allowAdminPromotion").checked = s.allowAdminPromotion === true;
  fillGroupSelect($("moderatorGroup"), s.moderatorGroup);
  fillGroupSelect($("adminGroup"), s.adminGroup);
  $("dryRun").checked = s.dryRun === true;
  $("maxPerHour").value = String(s.deprovisionGuard && s.deprovisionGuard.maxPerHour);
  $("logRetentionDays").value = String(s.logRetentionDays);
}

function FieldError(id, message) {
  this.id = id;
  this.message = message;
}

function readInt(id, label, min, max) {
  var raw = $(id).value.trim();
  if (!/^\d+$/.test(raw)) throw new FieldError(id, label + " must be a whole number.");
  var n = Number(raw);
  if (n < min || n > max) throw new FieldError(id, label + " must be between " + min + " and " + max + ".");
  return n;
}

function readSettingsForm() {
  return {
    scimEnabled: $("scim-on").checked,
    allowModeratorPromotion: $("allowModeratorPromotion").checked,
    allowAdminPromotion: $("allowAdminPromotion").checked,
    moderatorGroup: $("moderatorGroup").value || null,
    adminGroup: $("adminGroup").value || null,
    dryRun: $("dryRun").checked,
    deprovisionGuard: { maxPerHour: readInt("maxPerHour", "The deprovisioning guard", 1, 1000000) },
    logRetentionDays: readInt("logRetentionDays", "Log retention", 1, 3650),
  };
}

async function onSaveSettings(ev) {
  ev.preventDefault();
  var msg = $("settings-msg");
  var body;
  try {
    body = readSettingsForm();
  } catch (err) {
    setMsg(msg, "Not saved: " + err.message, "error");
    if (err instanceof FieldError) $(err.id).focus();
    return;
  }
  var button = $("save-settings");
  button.disabled = true;
  setMsg(msg, "Saving…");
  try {
    renderSettings(await api("PUT", "/settings", body));
    setMsg(msg, "Settings saved.", "ok");
    loadRoleJob();
  } catch (err) {
    showError(msg, "Not saved: ", err);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- SCIM base URL

async function onCopyUrl() {
  var input = $("base-url");
  var msg = $("copy-msg");
  try {
    await navigator.clipboard.writeText(input.value);
    setMsg(msg, "Copied.", "ok");
  } catch (e) {
    input.focus();
    input.select();
    setMsg(msg, "Selected: press Ctrl+C (⌘C) to copy.");
  }
}
`;
