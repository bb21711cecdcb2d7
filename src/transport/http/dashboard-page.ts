/**
 * The dashboard's markup and style (its script is in dashboard-script.ts). The markup holds the
 * fixed frame; the script fills it. Nothing here names another host.
 *
 * @module
 */

/** The page, with `<!--style-->` and `<!--script-->` where the inline style and script go. */
export const DASHBOARD_MARKUP = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>burrow dashboard</title>
<link rel="icon" href="data:,">
<!--style-->
</head>
<body>
<header>
  <h1>burrow <span id="self" class="mono">…</span></h1>
  <p id="status" role="status" aria-live="polite">Connecting…</p>
  <div class="controls">
    <button id="pause" type="button" aria-pressed="false">Pause</button>
    <button id="forget" type="button" hidden>Forget secret</button>
  </div>
</header>
<form id="auth" hidden>
  <label for="secret">This node has <code>auth</code> set. Its secret:</label>
  <input id="secret" name="secret" type="password" autocomplete="off" required>
  <button type="submit">Use secret</button>
  <p class="note">Kept in this tab's sessionStorage only, sent as an <code>Authorization: Bearer</code> header, never in a URL.</p>
</form>
<main>
  <section id="ring" aria-labelledby="ring-h">
    <h2 id="ring-h">Ring</h2>
    <div class="ring-row">
      <svg id="ring-chart" viewBox="-110 -110 220 220" role="img" aria-labelledby="ring-desc"><desc id="ring-desc">No data yet</desc></svg>
      <table id="ring-table">
        <caption>Share of the key space each peer owns</caption>
        <thead><tr><th scope="col">#</th><th scope="col">Peer</th><th scope="col">Share</th><th scope="col">State</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p id="ring-layout" class="note"></p>
  </section>
  <section id="node" aria-labelledby="node-h">
    <h2 id="node-h">This node</h2>
    <dl id="node-figures" class="figures"></dl>
  </section>
  <section id="namespaces" aria-labelledby="ns-h">
    <h2 id="ns-h">Namespaces</h2>
    <p class="note">Rates per second from successive samples; charts cover what was sampled, up to the last 5 minutes. Hot keys are not tracked (see docs/dashboard.md); the hot cache's size is under Cache.</p>
    <div id="ns-list"><p class="note">No namespace yet.</p></div>
  </section>
  <section id="events" aria-labelledby="events-h">
    <h2 id="events-h">Membership changes</h2>
    <p class="note">Newest first, since this node started listening (the last 100).</p>
    <ol id="event-list"></ol>
  </section>
</main>
<!--script-->
</body>
</html>
`

/** The page's style: light and dark by the reader's setting; colours always doubled by text. */
export const DASHBOARD_STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #5b6570; --bg: #fbfbfc; --card: #fff; --line: #d7dbe0;
  --c0: #2f6fdb; --c1: #d9480f; --c2: #2b8a3e; --c3: #ae3ec9; --c4: #e8590c; --c5: #0b7285; --c6: #5c940d; --c7: #c2255c;
  --bad: #c92a2a; --good: #2b8a3e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --muted: #9aa4ae; --bg: #15181c; --card: #1d2126; --line: #343a41; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: baseline; padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.2rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
h3 { font-size: 1rem; margin: 0 0 .5rem; }
#status { margin: 0; flex: 1; }
#status.error { color: var(--bad); font-weight: 600; }
.controls { display: flex; gap: .5rem; }
button { font: inherit; padding: .2rem .7rem; border: 1px solid var(--line); border-radius: 4px; background: var(--card); color: inherit; cursor: pointer; }
button:focus-visible, input:focus-visible { outline: 2px solid var(--c0); outline-offset: 2px; }
form#auth { margin: 1rem 1.25rem; padding: .75rem 1rem; border: 2px solid var(--bad); border-radius: 6px; background: var(--card); }
form#auth input { font: inherit; padding: .2rem .4rem; margin: 0 .5rem; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 1rem; padding: 1rem 1.25rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; min-width: 0; }
#namespaces { grid-column: 1 / -1; }
.note { color: var(--muted); font-size: .85rem; margin: .25rem 0; }
.mono, code, td.peer { font-family: ui-monospace, monospace; font-size: .9em; }
.ring-row { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
#ring-chart { width: 12rem; height: 12rem; flex: none; }
table { border-collapse: collapse; }
caption { text-align: left; color: var(--muted); font-size: .85rem; }
th, td { text-align: left; padding: .15rem .6rem .15rem 0; border-bottom: 1px solid var(--line); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .3em; vertical-align: -.05em; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: .4rem 1rem; margin: 0 0 .75rem; }
.figures div { min-width: 0; }
.figures dt { color: var(--muted); font-size: .8rem; }
.figures dd { margin: 0; font-size: 1.15rem; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.figures dd.warn { color: var(--bad); }
.ns { border-top: 1px solid var(--line); padding-top: .75rem; margin-top: .75rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: .75rem; }
figure { margin: 0; }
figcaption { font-size: .8rem; color: var(--muted); }
svg.line { width: 100%; height: 4.5rem; display: block; border-bottom: 1px solid var(--line); }
svg.line polyline { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
svg.line text, svg.bar text { font-size: 9px; fill: var(--muted); }
svg.bar { width: 100%; height: 1.4rem; display: block; }
.hot-keys { margin: .25rem 0; padding-left: 1.5rem; font-size: .85rem; }
.bars { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: .75rem; margin-top: .75rem; }
.s0 { fill: var(--c0); stroke: var(--c0); background: var(--c0); } .s1 { fill: var(--c1); stroke: var(--c1); background: var(--c1); }
.s2 { fill: var(--c2); stroke: var(--c2); background: var(--c2); } .s3 { fill: var(--c3); stroke: var(--c3); background: var(--c3); }
.s4 { fill: var(--c4); stroke: var(--c4); background: var(--c4); } .s5 { fill: var(--c5); stroke: var(--c5); background: var(--c5); }
.s6 { fill: var(--c6); stroke: var(--c6); background: var(--c6); } .s7 { fill: var(--c7); stroke: var(--c7); background: var(--c7); }
rect.track { fill: var(--line); }
line.track { stroke: var(--line); }
svg polyline.s0, svg polyline.s1, svg polyline.s2, svg polyline.s3 { fill: none; }
#ring-chart path { stroke: var(--card); stroke-width: 1.5; }
#ring-chart text { font-size: 14px; font-weight: 700; fill: #fff; text-anchor: middle; dominant-baseline: central; }
#ring-chart text.center { fill: var(--fg); font-size: 12px; font-weight: 400; }
#event-list { list-style: none; padding: 0; margin: 0; max-height: 22rem; overflow: auto; }
#event-list li { padding: .2rem 0; border-bottom: 1px solid var(--line); }
#event-list time { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: .5rem; }
.kind { font-weight: 600; margin-right: .4rem; }
.kind.down { color: var(--bad); } .kind.up { color: var(--good); }
`
