/**
 * The admin page's stylesheet, served as /admin/app.css (the CSP has no 'unsafe-inline').
 * Plain CSS, system fonts only (no third-party assets). Below 720px the tables turn into
 * stacked cards, each cell labelled from its column header (data-label set by the script).
 */
export const PAGE_CSS = `
:root {
  --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --panel: #f6f8fa;
  --accent: #0a66c2; --accent-fg: #ffffff; --ok: #1a7f37; --err: #cf222e; --warn: #9a6700;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 0 16px 48px; }
.top { display: flex; gap: 16px; align-items: flex-start; justify-content: space-between; max-width: 1100px; margin: 0 auto; padding: 16px; }
.top h1 { margin: 0; font-size: 24px; }
.top p { margin: 4px 0 0; color: var(--muted); }
h2 { font-size: 20px; margin: 32px 0 12px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 8px; }
nav { display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 8px 0; position: sticky; top: 0; background: var(--bg); z-index: 1; border-bottom: 1px solid var(--line); }
nav a { color: var(--accent); text-decoration: none; padding: 4px 0; }
nav a:hover, nav a:focus { text-decoration: underline; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 16px; padding: 12px 16px; }
legend { font-weight: 600; padding: 0 4px; }
label { display: block; font-weight: 500; margin: 8px 0 4px; }
.radios { display: flex; gap: 24px; }
.radios label, .check label { display: inline; font-weight: 500; margin: 0; }
.check { display: flex; gap: 8px; align-items: baseline; margin: 8px 0 0; }
.hint { color: var(--muted); font-size: 13px; margin: 4px 0 8px; }
input[type="text"], input[type="password"], input[type="search"], input[type="number"], select {
  font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; width: 100%; max-width: 480px; background: var(--bg); color: var(--fg);
}
input[readonly] { background: var(--panel); }
input:focus-visible, select:focus-visible, button:focus-visible, a:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); cursor: pointer; min-height: 36px; }
button.secondary { background: var(--bg); color: var(--accent); }
button.danger { background: var(--bg); color: var(--err); border-color: var(--err); }
button.link { background: none; border: none; color: var(--accent); padding: 0; min-height: 0; text-decoration: underline; font-family: ui-monospace, monospace; font-size: 13px; word-break: break-all; text-align: left; }
button:disabled { opacity: .5; cursor: default; }
.row { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
.row input { flex: 1 1 240px; }
.actions { margin: 8px 0; }
.filters { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: flex-end; margin-bottom: 8px; }
.filters > div { flex: 1 1 200px; }
.filters > .buttons { flex: 0 0 auto; }
.msg { min-height: 1.5em; margin: 8px 0; }
.msg.error { color: var(--err); font-weight: 600; }
.msg.ok { color: var(--ok); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
code { background: var(--panel); padding: 1px 4px; border-radius: 4px; word-break: break-word; }
pre { background: var(--panel); padding: 8px 12px; border-radius: 6px; overflow-x: auto; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
td.path, td.mono { font-family: ui-monospace, monospace; font-size: 13px; word-break: break-all; }
td ul { margin: 0; padding-left: 16px; }
.status-ok { color: var(--ok); font-weight: 600; }
.status-err { color: var(--err); font-weight: 600; }
.state { display: inline-block; padding: 0 8px; border-radius: 10px; background: var(--panel); border: 1px solid var(--line); font-size: 13px; white-space: nowrap; }
.state-delivered { color: var(--ok); border-color: var(--ok); }
.state-rejected, .state-dead, .state-undeliverable { color: var(--err); border-color: var(--err); }
.state-retrying, .state-held { color: var(--warn); border-color: var(--warn); }
.counts { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.counts li { font-size: 13px; }
.timeline { list-style: none; padding: 0; margin: 0; }
.timeline li { border-left: 3px solid var(--line); padding: 4px 12px 8px; margin: 0 0 8px; }
.timeline li.kind-event { border-left-color: var(--accent); }
.timeline .when { color: var(--muted); font-size: 13px; display: block; }
.timeline .what { font-weight: 600; word-break: break-all; }
.cell-actions { display: flex; gap: 6px; flex-wrap: wrap; }
.cell-actions button { padding: 2px 10px; min-height: 32px; font-size: 13px; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0,0,0,0); white-space: nowrap; border: 0; }
[hidden] { display: none !important; }
@media (max-width: 720px) {
  .top { flex-direction: column; }
  table, thead, tbody, tr, td { display: block; width: 100%; }
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0,0,0,0); }
  tr { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 8px; padding: 4px 0; }
  td { border: none; padding: 2px 8px; }
  td::before { content: attr(data-label); display: block; font-size: 12px; color: var(--muted); font-weight: 600; }
  .radios { gap: 16px; }
}
.banner { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 0.6rem 0.9rem; margin: 0 0 1rem; }
progress { width: 100%; max-width: 28rem; height: 1rem; }
`;
