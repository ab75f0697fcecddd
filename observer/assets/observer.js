// The observer's page: draws the tree the server streams, flashes restarts, lists exits,
// shows a process on click. Plain DOM and SVG; everything from the program goes in
// through textContent, never as markup.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COL = 280; // horizontal distance between levels
const ROW = 40; // vertical distance between leaves
const NODE_W = 240;
const NODE_H = 32;
const MARGIN = 20;
// A dynamic supervisor with more children than this is drawn collapsed until clicked.
const COLLAPSE_OVER = 8;
// An open dynamic supervisor shows this many of its children; the side panel lists all.
const DYNAMIC_SAMPLE = 12;
const FLASH_MS = 2000;
const MAX_EXITS = 200;

const state = {
  tree: null,
  // Keys of supervisors the user opened or closed, overriding the default.
  toggled: new Map(),
  // Key -> [class, since]: nodes flashing, kept across redraws.
  flashes: new Map(),
  // Supervisor pid -> its key and its label in the last drawing, to place events.
  supervisorKeys: new Map(),
  supervisorLabels: new Map(),
  selected: null,
  exits: 0,
  page: { pid: null, offset: 0 },
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, text) {
  const node = tag.startsWith("svg:")
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

function shortType(type) {
  if (!type) return "";
  // `my_app::cache::Cache<T>` -> `Cache<T>`: the path is in the details.
  const generic = type.indexOf("<");
  const path = generic < 0 ? type : type.slice(0, generic);
  const last = path.lastIndexOf("::");
  return (last < 0 ? path : path.slice(last + 2)) + (generic < 0 ? "" : type.slice(generic));
}

function clip(text, max) {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

function number(n) {
  return n.toLocaleString("en-US");
}

function time(ms) {
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// --- The tree -----------------------------------------------------------------------

function keyOf(node, parentKey) {
  const id = node.child && node.child.id;
  if (parentKey === null) return "root";
  // A static supervisor's child keeps its key across restarts; a dynamic one's is its pid.
  if (id !== null && id !== undefined) return `${parentKey}/${id}`;
  return node.pid ? `pid:${node.pid.raw}` : `${parentKey}/?`;
}

function kindOf(node) {
  if (node.info) return node.info.kind;
  return "stopped";
}

function isOpen(node, key) {
  if (state.toggled.has(key)) return state.toggled.get(key);
  const sup = node.supervisor;
  return !(sup && sup.dynamic && sup.count.specs > COLLAPSE_OVER);
}

// Lays the tree out left to right: leaves one row each, parents centred on their children.
function layout(root) {
  const placed = [];
  const edges = [];
  let row = 0;
  let depth = 0;
  state.supervisorKeys.clear();

  function visit(node, parentKey, level) {
    const key = keyOf(node, parentKey);
    depth = Math.max(depth, level);
    const item = { node, key, x: MARGIN + level * COL, y: 0, children: [] };
    if (node.supervisor && node.pid) {
      state.supervisorKeys.set(node.pid.raw, key);
      state.supervisorLabels.set(node.pid.raw, label(node));
    }
    const open = isOpen(node, key);
    item.open = open;
    item.collapsible = !!node.supervisor && (node.children.length > 0 || node.omitted > 0);
    if (open) {
      const dynamic = node.supervisor && node.supervisor.dynamic;
      const shown = dynamic ? node.children.slice(0, DYNAMIC_SAMPLE) : node.children;
      for (const child of shown) item.children.push(visit(child, key, level + 1));
      const hidden = node.omitted + node.children.length - shown.length;
      if (hidden > 0) {
        const more = {
          more: true, key: `${key}/+more`, x: MARGIN + (level + 1) * COL,
          y: MARGIN + row * ROW, count: hidden, owner: node, children: [],
        };
        row += 1;
        depth = Math.max(depth, level + 1);
        item.children.push(more);
        placed.push(more);
      }
    }
    if (item.children.length === 0) {
      item.y = MARGIN + row * ROW;
      row += 1;
    } else {
      const first = item.children[0].y;
      const last = item.children[item.children.length - 1].y;
      item.y = (first + last) / 2;
    }
    for (const child of item.children) edges.push([item, child]);
    placed.push(item);
    return item;
  }

  visit(root, null, 0);
  return {
    placed, edges,
    width: MARGIN * 2 + depth * COL + NODE_W,
    height: MARGIN * 2 + Math.max(row, 1) * ROW,
  };
}

function label(node) {
  const id = node.child && node.child.id;
  if (id) return id.includes("::") ? shortType(id) : id;
  const name = node.info && node.info.name;
  if (name) return name.includes("::") ? shortType(name) : name;
  return shortType(node.info && node.info.type) || (node.pid ? node.pid.text : "?");
}

function subLabel(node) {
  const parts = [];
  if (node.pid) parts.push(node.pid.text);
  else if (node.child) parts.push(node.child.state);
  const sup = node.supervisor;
  if (sup) {
    // The colour says it is dynamic; the count is what matters.
    parts.push(sup.dynamic ? `${number(sup.count.active)} children` : sup.strategy);
  } else if (node.info) {
    // What the label does not say already: the name, or the type.
    const shownLabel = label(node);
    const name = node.info.name;
    const type = shortType(node.info.type);
    if (name && shownLabel !== name && shownLabel !== shortType(name)) parts.push(name);
    else if (type !== shownLabel) parts.push(type);
    if (node.info.message_queue_len > 0) parts.push(`${number(node.info.message_queue_len)} queued`);
  }
  return parts.join(" · ");
}

// Nodes are kept by key from one drawing to the next and rebuilt only when what they show
// changed, so that a redraw never swaps the element under the pointer mid-click.
const drawn = new Map();

function nodeElement(key) {
  let g = drawn.get(key);
  if (!g) {
    g = el("svg:g", { "data-key": key });
    g.addEventListener("click", () => {
      const item = g.item;
      select(item.more ? item.owner : item.node);
    });
    drawn.set(key, g);
  }
  return g;
}

function renderNode(item) {
  const g = nodeElement(item.key);
  g.item = item;
  g.setAttribute("transform", `translate(${item.x},${item.y - NODE_H / 2})`);
  if (item.more) {
    const look = `more ${item.count}`;
    if (g.look !== look) {
      g.look = look;
      g.setAttribute("class", "node more");
      g.replaceChildren(
        el("svg:rect", { width: NODE_W, height: NODE_H, rx: 6 }),
        el("svg:text", { x: 10, y: 20 }, `+ ${number(item.count)} more: list them`),
      );
    }
    return g;
  }
  const node = item.node;
  const classes = ["node", kindOf(node)];
  if (state.selected !== null && node.pid && node.pid.raw === state.selected) classes.push("selected");
  const flash = state.flashes.get(item.key) || (node.pid && state.flashes.get(`pid:${node.pid.raw}`));
  const flashing = flash && Date.now() - flash[1] < FLASH_MS;
  if (flashing) classes.push(flash[0]);
  const text = label(node);
  const sub = subLabel(node);
  const restarts = (node.child && node.child.restarts) || 0;
  const status = node.info ? node.info.status : "";
  const look = JSON.stringify([text, sub, restarts, status, item.collapsible, item.open, flashing && flash[1]]);
  g.setAttribute("class", classes.join(" "));
  g.setAttribute("data-label", text);
  if (node.pid) g.setAttribute("data-pid", node.pid.raw);
  else g.removeAttribute("data-pid");
  if (node.supervisor) g.setAttribute("data-children", node.supervisor.count.active);
  if (g.look === look) return g;
  g.look = look;
  const parts = [];
  const rect = el("svg:rect", { width: NODE_W, height: NODE_H, rx: 6 });
  // A rebuilt node carries on with its flash where it was, rather than starting it again.
  if (flashing) rect.style.animationDelay = `-${Date.now() - flash[1]}ms`;
  parts.push(rect);
  if (node.info) parts.push(el("svg:circle", { class: `status ${status}`, cx: 11, cy: NODE_H / 2, r: 4 }));
  parts.push(el("svg:text", { x: 21, y: 13 }, clip(text, 30)));
  parts.push(el("svg:text", { x: 21, y: 26, class: "sub" }, clip(sub, 38)));
  if (restarts > 0) {
    parts.push(el("svg:text", { x: NODE_W - 8, y: 13, class: "badge", "text-anchor": "end" }, `↻${restarts}`));
  }
  if (item.collapsible) {
    const toggle = el("svg:g", { class: "toggle", transform: `translate(${NODE_W},${NODE_H / 2})` });
    toggle.appendChild(el("svg:title", {}, item.open ? "collapse" : "expand"));
    toggle.appendChild(el("svg:circle", { r: 8 }));
    toggle.appendChild(el("svg:text", { y: 4, "text-anchor": "middle" }, item.open ? "−" : "+"));
    toggle.addEventListener("click", (event) => {
      event.stopPropagation();
      state.toggled.set(item.key, !g.item.open);
      draw();
    });
    parts.push(toggle);
  }
  g.replaceChildren(...parts);
  return g;
}

function draw() {
  const svg = $("tree");
  const data = state.tree;
  if (!data) return;
  const { placed, edges, width, height } = layout(data.root);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  let lines = svg.querySelector("g.edges");
  if (!lines) {
    lines = el("svg:g", { class: "edges" });
    svg.prepend(lines);
  }
  lines.replaceChildren(...edges.map(([from, to]) => {
    const x1 = from.x + NODE_W, y1 = from.y, x2 = to.x, y2 = to.y, mid = (x1 + x2) / 2;
    return el("svg:path", { class: "edge", d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` });
  }));
  const keep = new Set();
  for (const item of placed) {
    keep.add(item.key);
    const g = renderNode(item);
    if (g.parentNode !== svg) svg.appendChild(g);
  }
  for (const [key, g] of drawn) {
    if (!keep.has(key)) {
      g.remove();
      drawn.delete(key);
    }
  }
  const root = data.root;
  $("root").textContent = `root ${root.pid ? root.pid.text : "—"} (${label(root)})`;
  $("count").textContent = `${number(data.process_count)} processes`;
  $("updated").textContent = `updated ${time(Date.now())}`;
}

function showTree(data) {
  if (data.error) {
    $("problem").hidden = false;
    $("problem").textContent = `The root is gone: ${data.error}`;
    return;
  }
  $("problem").hidden = true;
  state.tree = data;
  draw();
}

// --- Events -------------------------------------------------------------------------

function flash(key, kind) {
  state.flashes.set(key, [kind, Date.now()]);
  const node = document.querySelector(`#tree g[data-key="${CSS.escape(key)}"]`);
  if (node) {
    node.classList.remove("flash-crash", "flash-restart");
    const rect = node.querySelector("rect");
    if (rect) rect.style.animationDelay = "0ms";
    // Start the animation again even if the class was just there.
    void node.getBoundingClientRect();
    node.classList.add(kind);
  }
  setTimeout(() => {
    const entry = state.flashes.get(key);
    if (entry && Date.now() - entry[1] >= FLASH_MS) state.flashes.delete(key);
  }, FLASH_MS + 50);
}

function onTreeEvent(event) {
  const supKey = state.supervisorKeys.get(event.supervisor.raw);
  const childKey = supKey !== undefined ? `${supKey}/${event.child_id}` : null;
  const crash = event.abnormal ? "flash-crash" : "flash-restart";
  if (childKey) flash(childKey, event.kind === "restarted" ? "flash-restart" : crash);
  if (event.pid) flash(`pid:${event.pid.raw}`, event.kind === "restarted" ? "flash-restart" : crash);
  if (supKey !== undefined && event.kind === "intensity_reached") flash(supKey, "flash-crash");
  if (event.kind !== "restarted") addExit(event);
}

function addExit(event) {
  const list = $("exits");
  const item = el("li", {
    class: `new ${event.abnormal ? "abnormal" : ""}`,
    "data-kind": event.kind,
    "data-child-id": event.child_id,
  });
  item.appendChild(el("span", { class: "when" }, time(event.at_ms)));
  item.appendChild(el("span", { class: "who" }, shortType(event.child_id)));
  const what = {
    exited: event.restarting ? " exited, restarting" : " exited",
    start_failed: " failed to start",
    shutdown_error: " failed during shutdown",
    intensity_reached: ": too many restarts, supervisor gives up",
  }[event.kind] || ` ${event.kind}`;
  const under = state.supervisorLabels.get(event.supervisor.raw) || event.supervisor.text;
  item.appendChild(document.createTextNode(`${what}${event.pid ? " (" + event.pid.text + ")" : ""} under ${under}`));
  if (event.reason) item.appendChild(el("span", { class: "reason" }, event.reason));
  list.prepend(item);
  while (list.children.length > MAX_EXITS) list.lastChild.remove();
  state.exits += 1;
  $("exit-count").textContent = `(${number(state.exits)})`;
}

function connect() {
  const source = new EventSource("/api/events");
  const conn = $("conn");
  source.addEventListener("open", () => {
    conn.className = "conn live";
    conn.textContent = "live";
  });
  source.addEventListener("error", () => {
    conn.className = "conn lost";
    conn.textContent = "reconnecting…";
  });
  source.addEventListener("tree", (message) => showTree(JSON.parse(message.data)));
  source.addEventListener("tree_event", (message) => onTreeEvent(JSON.parse(message.data)));
  source.addEventListener("lagged", (message) => {
    const { dropped } = JSON.parse(message.data);
    addExit({ kind: "lagged", child_id: `${dropped} events dropped`, supervisor: { text: "—" }, at_ms: Date.now(), abnormal: false });
  });
}

// --- Details ------------------------------------------------------------------------

function row(table, name, value) {
  const tr = el("tr");
  tr.appendChild(el("td", {}, name));
  tr.appendChild(el("td", {}, value));
  table.appendChild(tr);
}

async function select(node) {
  if (!node.pid) {
    state.selected = null;
    draw();
    const panel = $("details");
    panel.replaceChildren(el("h2", {}, "Process"));
    const table = el("table");
    if (node.child) {
      row(table, "id", node.child.id || "—");
      row(table, "state", node.child.state);
      row(table, "restart", node.child.restart);
      row(table, "restarts", String(node.child.restarts));
    }
    panel.appendChild(table);
    return;
  }
  state.selected = node.pid.raw;
  draw();
  await showProcess(node.pid.raw);
}

async function showProcess(raw) {
  const panel = $("details");
  let status;
  try {
    const response = await fetch(`/api/process/${raw}`);
    status = await response.json();
    if (!response.ok) throw new Error(status.error || response.statusText);
  } catch (error) {
    panel.replaceChildren(el("h2", {}, "Process"), el("p", { class: "hint" }, `#PID<0.${raw}.0>: ${error.message}`));
    return;
  }
  const info = status.info;
  const heading = el("h2", {}, `Process ${info.pid.text}`);
  const table = el("table", { id: "process-info" });
  if (status.child && status.child.id) row(table, "id", status.child.id);
  row(table, "name", info.name || "—");
  row(table, "type", info.type);
  row(table, "kind", info.kind.replace("_", " "));
  row(table, "status", info.status);
  row(table, "mailbox", `${number(info.message_queue_len)} messages`);
  row(table, "started", new Date(info.started_at_ms).toLocaleString());
  row(table, "parent", info.parent ? info.parent.text : "—");
  if (status.child) {
    row(table, "restart", `${status.child.restart}, shutdown ${status.child.shutdown}`);
    row(table, "restarted", `${status.child.restarts} times`);
  }
  if (info.links.length) row(table, "links", info.links.map((p) => p.text).join(" "));
  if (info.monitored_by) row(table, "monitored by", String(info.monitored_by));
  const parts = [heading, table];
  const sup = status.supervisor;
  if (sup) {
    row(table, "strategy", sup.dynamic ? "dynamic (one_for_one)" : sup.strategy);
    row(table, "intensity", `${sup.recent_restarts} of ${sup.max_restarts} restarts in ${sup.period_ms / 1000} s (${sup.total_restarts} in all)`);
    row(table, "children", `${number(sup.count.active)} running of ${number(sup.count.specs)} (${number(sup.count.supervisors)} supervisors)`);
    if (sup.max_children !== null) row(table, "max children", number(sup.max_children));
    const kids = el("div", { id: "children-page" });
    parts.push(kids);
    state.page = { pid: raw, offset: 0 };
    loadPage(kids);
  }
  if (status.state !== null) {
    parts.push(el("pre", { class: "state", id: "state" }, status.state));
  } else if (status.state_error) {
    parts.push(el("p", { class: "hint", id: "state" }, `State: ${status.state_error}`));
  }
  panel.replaceChildren(...parts);
}

const PAGE = 50;

async function loadPage(container) {
  const { pid, offset } = state.page;
  let page;
  try {
    const response = await fetch(`/api/children/${pid}?offset=${offset}&limit=${PAGE}`);
    page = await response.json();
    if (!response.ok) throw new Error(page.error || response.statusText);
  } catch (error) {
    container.replaceChildren(el("p", { class: "hint" }, `children: ${error.message}`));
    return;
  }
  const pager = el("div", { class: "pager" });
  const prev = el("button", {}, "‹ prev");
  const next = el("button", {}, "next ›");
  prev.disabled = offset === 0;
  next.disabled = offset + page.children.length >= page.total;
  prev.addEventListener("click", () => { state.page.offset = Math.max(0, offset - PAGE); loadPage(container); });
  next.addEventListener("click", () => { state.page.offset = offset + PAGE; loadPage(container); });
  const shown = page.children.length ? `${number(offset + 1)}–${number(offset + page.children.length)}` : "none";
  pager.append(prev, el("span", { class: "muted" }, `${shown} of ${number(page.total)}`), next);
  const list = el("ul", { class: "kids" });
  for (const kid of page.children) {
    const name = kid.child.id || (kid.info && (kid.info.name || shortType(kid.info.type))) || "?";
    const li = el("li", {}, `${kid.pid ? kid.pid.text : kid.child.state}  ${name}${kid.info ? " · " + kid.info.status : ""}${kid.child.restarts ? " · ↻" + kid.child.restarts : ""}`);
    if (kid.pid) li.addEventListener("click", () => { state.selected = kid.pid.raw; draw(); showProcess(kid.pid.raw); });
    list.appendChild(li);
  }
  container.replaceChildren(el("h2", {}, "Children"), pager, list);
}

connect();
