// The dashboard's stylesheet, used by the webview (in a nonce'd <style>) and by the static
// snapshot. Colours are VS Code theme variables, so light, dark and high-contrast themes
// work; the snapshot defines fallbacks for them (SNAPSHOT_THEME).
export const DASHBOARD_CSS = `
:root { --ok: var(--vscode-charts-green, #388a34); --warn: var(--vscode-charts-yellow, #bf8803); --bad: var(--vscode-charts-red, #e51400);
  --run: var(--vscode-charts-blue, #1a85ff); --esc: var(--vscode-charts-orange, #d18616); --merge: var(--vscode-charts-purple, #652d90);
  --border: var(--vscode-panel-border, var(--vscode-widget-border, #8884)); --muted: var(--vscode-descriptionForeground, #888); }
* { box-sizing: border-box; }
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size, 13px); color: var(--vscode-foreground); background: var(--vscode-editor-background); margin: 0; padding: 8px 16px 24px; }
h1 { font-size: 1.3em; margin: 4px 0 8px; display: flex; align-items: center; gap: 8px; }
h2 { font-size: 1.05em; margin: 18px 0 6px; display: flex; align-items: center; gap: 6px; }
h2 .count { color: var(--muted); font-weight: normal; }
.muted { color: var(--muted); fill: var(--muted); }
button, .btn { font: inherit; color: var(--vscode-button-secondaryForeground, var(--vscode-foreground)); background: var(--vscode-button-secondaryBackground, transparent);
  border: 1px solid var(--vscode-button-border, transparent); border-radius: 2px; padding: 2px 8px; cursor: pointer; display: inline-flex; align-items: center; gap: 4px; }
button:hover { background: var(--vscode-button-secondaryHoverBackground, #8883); }
button.primary { color: var(--vscode-button-foreground); background: var(--vscode-button-background); }
button.primary:hover { background: var(--vscode-button-hoverBackground); }
button.icon { background: transparent; border: 1px solid transparent; padding: 2px 4px; color: var(--vscode-icon-foreground, var(--vscode-foreground)); }
button.icon:hover { background: var(--vscode-toolbar-hoverBackground, #8883); }
button:disabled { opacity: .5; cursor: default; }
:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
input, textarea { font: inherit; color: var(--vscode-input-foreground); background: var(--vscode-input-background); border: 1px solid var(--vscode-input-border, transparent); padding: 3px 6px; border-radius: 2px; }
.tiles { display: flex; gap: 8px; flex-wrap: wrap; }
.tile { border: 1px solid var(--border); border-radius: 4px; padding: 6px 12px; min-width: 92px; }
.tile .n { display: block; font-size: 1.6em; font-weight: 600; line-height: 1.2; }
.tile .l { color: var(--muted); font-size: .9em; }
.tile.attn { border-color: var(--esc); }
.tile.attn .n { color: var(--esc); }
.tile.bad .n { color: var(--bad); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--border); vertical-align: middle; }
th { color: var(--muted); font-weight: normal; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.progress { width: 120px; height: 8px; display: inline-block; vertical-align: middle; }
.progress .track { fill: var(--vscode-progressBar-background, var(--run)); opacity: .18; }
.progress .fill { fill: var(--vscode-progressBar-background, var(--run)); }
.pill { display: inline-flex; align-items: center; gap: 4px; border-radius: 9px; padding: 0 8px; border: 1px solid currentColor; font-size: .9em; white-space: nowrap; }
.s-idle { color: var(--muted); } .s-running { color: var(--run); } .s-gating, .s-merging { color: var(--merge); }
.s-escalated, .s-waiting-input { color: var(--esc); font-weight: 600; } .s-rate-limited, .s-retry-wait { color: var(--warn); }
tr.slot.attn { background: color-mix(in srgb, var(--esc) 10%, transparent); }
.actions { white-space: nowrap; text-align: right; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0 24px; }
@media (min-width: 1100px) { .layout { grid-template-columns: minmax(0, 3fr) minmax(320px, 2fr); } }
.scroll { overflow: auto; max-height: 520px; border: 1px solid var(--border); border-radius: 4px; }
svg text { fill: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: 11px; }
svg.graph .edge { fill: none; stroke: var(--muted); stroke-width: 1; opacity: .7; }
svg.graph .edge.critical { stroke: var(--esc); stroke-width: 2.5; opacity: 1; }
svg.graph .arrowhead { fill: var(--muted); }
svg.graph .node { cursor: pointer; }
svg.graph .node rect { fill: var(--vscode-editor-background); stroke: var(--c, var(--muted)); stroke-width: 1.5; }
svg.graph .node .nid { font-weight: 600; }
svg.graph .node .ntitle { fill: var(--muted); }
svg.graph .node.critical rect { stroke-width: 3; stroke-dasharray: none; }
svg.graph .node.selected rect { stroke: var(--vscode-focusBorder); stroke-width: 3; fill: var(--vscode-list-activeSelectionBackground, var(--vscode-editor-background)); }
svg.graph .node:focus { outline: none; } svg.graph .node:focus rect { stroke: var(--vscode-focusBorder); stroke-width: 3; }
.st-backlog { --c: var(--muted); } .st-ready { --c: var(--vscode-foreground); } .st-running { --c: var(--run); }
.st-gating, .st-queued-for-merge, .st-merging { --c: var(--merge); } .st-done { --c: var(--ok); } .st-blocked { --c: var(--warn); }
.st-escalated, .st-in-review { --c: var(--esc); } .st-failed { --c: var(--bad); } .st-cancelled { --c: var(--vscode-disabledForeground, #888); }
svg.graph .node rect { fill: color-mix(in srgb, var(--c, var(--muted)) 14%, var(--vscode-editor-background, transparent)); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 12px; margin: 4px 0; color: var(--muted); font-size: .9em; }
.legend .sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px; border: 2px solid var(--c); margin-right: 4px; vertical-align: -1px; }
.legend .cp { display: inline-block; width: 16px; height: 0; border-top: 3px solid var(--esc); margin-right: 4px; vertical-align: 3px; }
svg.gantt .rowline { stroke: var(--border); }
svg.gantt .slotlabel, svg.gantt .axis { fill: var(--muted); }
svg.gantt .bar rect { fill: var(--ok); opacity: .85; }
svg.gantt .bar.live rect { fill: var(--run); }
svg.gantt .bar.out-failed rect, svg.gantt .bar.out-crashed rect, svg.gantt .bar.out-timeout rect { fill: var(--bad); }
svg.gantt .bar.out-cancelled rect, svg.gantt .bar.out-no-changes rect { fill: var(--muted); }
svg.gantt .bar.retry rect:first-of-type { stroke: var(--warn); stroke-width: 2; }
svg.gantt .bar rect.wait { fill: var(--esc); opacity: .9; }
svg.gantt .barlabel { fill: var(--vscode-editor-background, #fff); font-weight: 600; pointer-events: none; }
svg.gantt .hatchline { fill: var(--run); opacity: .55; }
svg.gantt .bar.predicted rect { fill: url(#hatch); stroke: var(--run); stroke-width: 1; stroke-dasharray: 3 2; opacity: .9; }
svg.gantt .bar.predicted.rest rect { opacity: .6; }
svg.gantt .bar.predicted .barlabel { fill: var(--vscode-foreground); }
svg.gantt .nowline { stroke: var(--vscode-foreground); stroke-width: 1; stroke-dasharray: 2 3; opacity: .6; }
.tile.eta .n { color: var(--run); }
.eta { font-variant-numeric: tabular-nums; white-space: nowrap; }
.metric.warn .v { color: var(--warn); } .metric.alert { background: color-mix(in srgb, var(--bad) 12%, transparent); } .metric.alert .v { color: var(--bad); font-weight: 600; }
.metric .v { font-weight: 600; }
.alerts { list-style: none; padding: 0; margin: 6px 0; }
.alerts li { border-left: 3px solid var(--bad); padding: 4px 8px; margin: 4px 0; background: color-mix(in srgb, var(--bad) 8%, transparent); display: flex; gap: 6px; align-items: flex-start; }
.esc { border: 1px solid var(--esc); border-left-width: 4px; border-radius: 4px; padding: 8px 10px; margin: 6px 0; }
.esc .q { font-weight: 600; margin: 4px 0; }
.esc .ctx { color: var(--muted); white-space: pre-wrap; max-height: 6em; overflow: auto; margin: 4px 0; }
.esc .opts { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 0; }
.esc form { display: flex; gap: 6px; } .esc form input { flex: 1; min-width: 120px; }
.esc .meta { color: var(--muted); font-size: .9em; }
.empty { color: var(--muted); padding: 4px 0; }
.banner { border: 1px solid var(--border); padding: 4px 8px; border-radius: 4px; margin: 6px 0; }
.toast { position: fixed; bottom: 8px; right: 12px; background: var(--vscode-notifications-background, var(--vscode-editor-background)); color: var(--vscode-notifications-foreground, inherit);
  border: 1px solid var(--vscode-notifications-border, var(--border)); padding: 6px 10px; border-radius: 4px; max-width: 60%; }
.toast.error { border-color: var(--bad); }
.selected-row { outline: 1px solid var(--vscode-focusBorder); }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
body.compact { padding: 4px 8px; }
body.compact .full-only { display: none !important; }
body.compact .tile { min-width: 60px; padding: 3px 6px; } body.compact .tile .n { font-size: 1.2em; }
body.compact .progress { width: 60px; }
`;

/** Theme variables for the static snapshot (outside VS Code): light by default, dark when the viewer prefers it. */
export const SNAPSHOT_THEME = `
:root { --vscode-font-family: system-ui, -apple-system, "Segoe UI", sans-serif; --vscode-font-size: 13px; --vscode-foreground: #1f1f1f; --vscode-editor-background: #ffffff;
  --vscode-descriptionForeground: #616161; --vscode-panel-border: #d4d4d4; --vscode-focusBorder: #005fb8; --vscode-progressBar-background: #0078d4; }
@media (prefers-color-scheme: dark) { :root { --vscode-foreground: #cccccc; --vscode-editor-background: #1f1f1f; --vscode-descriptionForeground: #9d9d9d; --vscode-panel-border: #3c3c3c; } }
`;
