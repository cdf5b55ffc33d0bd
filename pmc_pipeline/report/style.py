"""The card's stylesheet, inlined into index.html (no external file, no web font: the page
loads nothing but its own images). Kept as a module rather than a .css file so that it ships
with the package without package-data settings."""

CSS = """\
:root {
  --fg: #1f2328;
  --muted: #5f6b76;
  --faint: #9aa4ad;
  --line: #d8dee4;
  --panel: #f6f8fa;
  --accent: #3b6ea8;
  --kept: #1a7f37;
  --drop: #b5525c;
  --warn: #9a6700;
}
* { box-sizing: border-box; }
body {
  margin: 0;
  color: var(--fg);
  background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header.top { background: #1d2733; color: #f0f3f6; padding: 28px 0 22px; }
header.top h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; letter-spacing: -0.01em; }
header.top p { margin: 2px 0; color: #b8c2cc; font-size: 14px; }
header.top code { color: #f0f3f6; }
.wrap { max-width: 1240px; margin: 0 auto; padding: 0 28px; }
nav { border-bottom: 1px solid var(--line); background: var(--panel); font-size: 14px; }
nav .wrap { display: flex; gap: 22px; padding-top: 10px; padding-bottom: 10px; flex-wrap: wrap; }
nav a { color: var(--accent); text-decoration: none; }
main section { margin: 34px 0 10px; }
h2 { font-size: 20px; margin: 0 0 4px; }
h3 { font-size: 16px; margin: 22px 0 8px; }
p.lead { margin: 0 0 14px; color: var(--muted); max-width: 860px; }
code { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
a { color: var(--accent); }

.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.stat { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: var(--panel); }
.stat .n { display: block; font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.stat .what { color: var(--muted); font-size: 13px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.badge.ok, .badge.kept { background: #dafbe1; color: var(--kept); }
.badge.bad, .badge.duplicate, .badge.near_duplicate { background: #ffebe9; color: var(--drop); }
.problems { color: var(--drop); }

table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.funnel { width: 100%; max-width: 980px; }
table.funnel th, table.funnel td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
table.funnel th { font-size: 13px; color: var(--muted); font-weight: 600; }
table.funnel td.n, table.funnel td.share { text-align: right; white-space: nowrap; }
table.funnel td.bar { width: 32%; }
table.funnel tr.stage td { background: var(--panel); font-weight: 650; border-top: 2px solid var(--line); }
table.funnel tr.status td.name { padding-left: 26px; }
table.funnel tr.reason td.name { padding-left: 52px; color: var(--muted); font-size: 14px; }
table.funnel tr.reason td.n { color: var(--muted); }
table.funnel tr.zero td { color: var(--faint); }
table.funnel .desc { display: block; color: var(--muted); font-size: 12.5px; font-weight: 400; }
.meter { height: 10px; background: #e9edf1; border-radius: 3px; overflow: hidden; }
.meter span { display: block; height: 100%; background: var(--accent); }
tr.status.kept .meter span, tr.status.ok .meter span { background: var(--kept); }
tr.reason .meter span { background: #9bb5d3; }

.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 18px; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px; background: #fff; }
figure.chart img { display: block; width: 100%; height: auto; }
figure.chart figcaption { font-size: 13px; color: var(--muted); padding: 4px 6px 0; }
details summary { cursor: pointer; }
table.data { margin: 6px 0; font-size: 12.5px; }
table.data th, table.data td { padding: 2px 8px; border-bottom: 1px solid var(--line); text-align: right; }
table.data th:first-child, table.data td:first-child { text-align: left; }

.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(215px, 1fr)); gap: 14px; }
.card { border: 1px solid var(--line); border-radius: 8px; overflow: hidden; background: #fff; display: flex; flex-direction: column; }
.card .thumb { height: 170px; display: flex; align-items: center; justify-content: center; background: #eef1f4; }
.card .thumb img { max-width: 100%; max-height: 100%; }
.card .thumb.missing { color: var(--muted); font-size: 12.5px; padding: 12px; text-align: center; }
.card .body { padding: 8px 10px 10px; font-size: 13px; display: flex; flex-direction: column; gap: 4px; }
.card .head { display: flex; justify-content: space-between; gap: 6px; align-items: baseline; }
.card .label { font-weight: 650; }
.card .dims { color: var(--muted); font-size: 12px; white-space: nowrap; }
.card .caption { margin: 0; max-height: 9.2em; overflow: auto; line-height: 1.4; }
.card .source { margin: 0; color: var(--muted); font-size: 12px; }
.card .title { margin: 0; color: var(--muted); font-size: 12px; font-style: italic;
  display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.card code { color: var(--faint); font-size: 11px; }

.clusters { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
.cluster { display: flex; gap: 12px; overflow-x: auto; padding: 12px; border: 1px solid var(--line);
  border-radius: 8px; background: var(--panel); max-width: 100%; }
.cluster .card { flex: 0 0 215px; }
.cluster .card.kept { border: 2px solid var(--kept); }
.note { color: var(--warn); }

table.options td, table.options th { padding: 3px 12px 3px 0; border-bottom: 1px solid var(--line); text-align: left; font-size: 13.5px; }
footer { margin: 40px 0 30px; color: var(--muted); font-size: 13px; border-top: 1px solid var(--line); padding-top: 12px; }
"""
