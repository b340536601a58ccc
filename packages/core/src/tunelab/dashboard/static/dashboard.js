// tunelab dashboard: fills the page shell from the JSON endpoints and polls them every
// second. Stored text (names, values, error messages) only ever reaches the page through
// textContent / text nodes, and reaches plotly escaped (plotly reads "<...>" as markup).
"use strict";
(function () {
  const POLL_MS = 1000;
  const MAX_ROWS = 500;
  const FINISHED = ["COMPLETED", "STOPPED"];
  const params = new URLSearchParams(location.search);
  const main = document.getElementById("main");
  const page = document.body.dataset.page;

  // -- building the DOM without innerHTML ------------------------------------------------
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }
  // Text for plotly labels, ticks and hovers: plotly turns tags and entities into markup.
  function pt(value) {
    return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function fmt(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number") {
      if (Number.isInteger(value)) return String(value);
      const a = Math.abs(value);
      return a !== 0 && (a < 1e-3 || a >= 1e5) ? value.toExponential(3) : value.toPrecision(4);
    }
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }
  // A failed trial's message ends with the exception; the trial's page shows all of it.
  function lastLine(text) {
    const lines = String(text || "").split("\n").filter((line) => line.trim());
    return lines.length ? lines[lines.length - 1] : "";
  }
  function when(seconds) {
    return seconds ? new Date(seconds * 1000).toLocaleString() : "";
  }
  function seconds(value) {
    return value === null || value === undefined ? "" : value.toFixed(value < 10 ? 2 : 1) + " s";
  }
  function projectLink(name) {
    return "/project?project=" + encodeURIComponent(name);
  }
  function trialLink(name, id) {
    return "/trial?project=" + encodeURIComponent(name) + "&id=" + encodeURIComponent(id);
  }
  function section(id, title) {
    const body = el("div", { id: id + "-body" });
    main.append(el("section", { id: id + "-section" }, el("h2", { text: title }), body));
    return body;
  }
  function chart(parent, id, height) {
    const div = el("div", { id: id, class: "chart", style: "height:" + (height || 320) + "px" });
    parent.append(div);
    return div;
  }
  const layoutBase = {
    margin: { l: 60, r: 20, t: 20, b: 50 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { size: 12 },
  };
  function draw(div, traces, layout, config) {
    Plotly.react(div, traces, Object.assign({}, layoutBase, layout),
      Object.assign({ displaylogo: false, responsive: true }, config));
  }

  // Steps are whole numbers: ticks on whole numbers, about ten of them.
  function stepAxis(steps) {
    const last = steps.length ? Math.max(...steps) : 1;
    return { title: { text: "step" }, tick0: 0, dtick: Math.max(1, Math.ceil(last / 10)) };
  }

  // -- polling with ETags -------------------------------------------------------------------
  const etags = {};
  const live = document.getElementById("live");
  async function getJSON(url) {
    const headers = etags[url] ? { "If-None-Match": etags[url] } : {};
    const answer = await fetch(url, { headers: headers, cache: "no-store" });
    if (answer.status === 304) return null;
    etags[url] = answer.headers.get("ETag");
    return answer.json();
  }
  function poll(url, render) {
    async function tick() {
      const target = typeof url === "function" ? url() : url;
      try {
        const doc = await getJSON(target);
        if (doc) render(doc);
        live.textContent = "live";
        live.className = "ok";
      } catch (error) {
        live.textContent = "server unreachable";
        live.className = "bad";
      }
      setTimeout(tick, POLL_MS);
    }
    tick();
  }
  function storeError(doc, where) {
    clear(where);
    if (!doc.error) return false;
    where.append(el("p", { class: "error store-error", text: "This store cannot be read: " + doc.error }));
    return true;
  }

  // -- the projects page ---------------------------------------------------------------------
  function projectsPage() {
    document.getElementById("where").textContent = "projects";
    const head = el("h1", { text: "Projects" });
    const body = el("div", { id: "projects-body" });
    main.append(head, body);
    poll("/api/projects", function (doc) {
      head.textContent = doc.heading || "Projects under " + doc.root;
      clear(body);
      if (doc.error) {
        body.append(el("p", { class: "error store-error", text: "The projects cannot be listed: " + doc.error }));
        return;
      }
      if (!doc.projects.length) {
        body.append(el("p", { text: doc.empty || "No project here yet." }));
        return;
      }
      const table = el("table", { id: "projects" });
      table.append(el("tr", {}, ...["Project", "Trials", "Best", "Last change"].map((t) => el("th", { text: t }))));
      for (const row of doc.projects) {
        const link = el("a", { href: projectLink(row.project), text: row.project, class: "project" });
        if (row.error) {
          table.append(el("tr", { class: "damaged" }, el("td", {}, link),
            el("td", { colspan: "3", class: "error", text: row.error })));
          continue;
        }
        const counts = Object.entries(row.counts).map(([s, n]) => n + " " + s).join(", ") || "none";
        const name = row.objective.objectives ? "combined" : row.objective.name;
        const best = row.best === null ? "-" : name + " = " + fmt(row.best) + " (" + row.objective.direction + ")";
        table.append(el("tr", {}, el("td", {}, link), el("td", { text: counts }), el("td", { text: best }),
          el("td", { text: when(row.last_change) })));
      }
      body.append(table);
    });
  }

  // -- one project -----------------------------------------------------------------------------
  function projectPage() {
    const name = params.get("project") || "";
    document.getElementById("where").textContent = name;
    main.append(el("h1", { text: "Project " + name }));
    const info = el("p", { id: "info" });
    const problem = el("div", { id: "problem" });
    main.append(info, problem);
    const state = { doc: null, sort: "number", descending: false, metric: "" };

    const trials = section("trials", "Trials");
    const status = el("select", { id: "filter-status", onchange: () => table(), "aria-label": "status" });
    const hp = el("select", { id: "filter-hp", onchange: () => table(), "aria-label": "hyperparameter" });
    const hpValue = el("input", { id: "filter-value", placeholder: "value contains", oninput: () => table() });
    const tableBox = el("div", { id: "trials-table" });
    trials.append(el("div", { class: "filters" }, "Status ", status, " Hyperparameter ", hp, " ", hpValue), tableBox);
    const history = chart(section("history", "Optimization history"), "history");
    const paretoBox = section("pareto", "Pareto front");
    const pareto = chart(paretoBox, "pareto");
    const parallel = chart(section("parallel", "Parallel coordinates"), "parallel", 360);
    const slices = section("slices", "Slices: score by hyperparameter");
    const importanceBox = section("importance", "Hyperparameter importance");
    const importanceNote = el("p", { class: "note" });
    importanceBox.append(importanceNote);
    const importance = chart(importanceBox, "importance-chart", 260);
    const curvesBox = section("curves", "Learning curves");
    const metric = el("select", { id: "curve-metric", "aria-label": "metric", onchange: () => { state.metric = metric.value; } });
    const curvesNote = el("p", { class: "note" });
    curvesBox.append(el("div", { class: "filters" }, "Metric ", metric), curvesNote);
    const curves = chart(curvesBox, "curves-chart", 340);

    function options(select, values, keep) {
      const current = select.value;
      clear(select);
      for (const [value, label] of values) select.append(el("option", { value: value, text: label }));
      if (keep && values.some(([v]) => v === current)) select.value = current;
    }
    function finished(doc) {
      return doc.trials.filter((t) => FINISHED.includes(t.status) && t.score !== null);
    }
    function table() {
      const doc = state.doc;
      if (!doc) return;
      const names = doc.hyperparameters;
      let rows = doc.trials.slice();
      if (status.value) rows = rows.filter((t) => t.status === status.value);
      const needle = hpValue.value.trim().toLowerCase();
      if (hp.value && needle) {
        rows = rows.filter((t) => hp.value in t.values && fmt(t.values[hp.value]).toLowerCase().includes(needle));
      } else if (hp.value) {
        rows = rows.filter((t) => hp.value in t.values);
      }
      const key = state.sort;
      const value = (t) => (key.startsWith("hp:") ? t.values[key.slice(3)] : t[key]);
      rows.sort(function (a, b) {
        const x = value(a), y = value(b);
        if (x === y) return a.number - b.number;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        const order = x < y ? -1 : 1;
        return state.descending ? -order : order;
      });
      const front = new Set(doc.pareto || []);
      const columns = [["number", "#"], ["id", "Trial"], ["status", "Status"], ["score", "Score"],
        ["duration", "Duration"]];
      for (const n of names) columns.push(["hp:" + n, n]);
      if (doc.pareto) columns.push(["pareto", "Pareto"]);
      columns.push(["message", "Error"]);
      const out = el("table", { id: "trials" });
      out.append(el("tr", {}, ...columns.map(([k, label]) => el("th", {
        text: label + (state.sort === k ? (state.descending ? " \u25bc" : " \u25b2") : ""),
        class: "sortable",
        onclick: function () {
          state.descending = state.sort === k ? !state.descending : false;
          state.sort = k;
          table();
        },
      }))));
      for (const t of rows.slice(0, MAX_ROWS)) {
        const cells = [el("td", { text: t.number }),
          el("td", {}, el("a", { href: trialLink(doc.project, t.id), text: t.id })),
          el("td", { text: t.status, class: "status " + t.status }),
          el("td", { text: fmt(t.score) }),
          el("td", { text: seconds(t.duration) })];
        for (const n of names) cells.push(el("td", { text: n in t.values ? fmt(t.values[n]) : "\u2013" }));
        if (doc.pareto) cells.push(el("td", { text: front.has(t.id) ? "yes" : "" }));
        cells.push(el("td", { class: "message", text: t.status === "FAILED" || t.status === "INVALID" ? lastLine(t.message) : "" }));
        out.append(el("tr", { "data-trial": t.id }, ...cells));
      }
      clear(tableBox).append(out);
      if (rows.length > MAX_ROWS) {
        tableBox.append(el("p", { class: "note", text: "Showing " + MAX_ROWS + " of " + rows.length + " trials: sort or filter to see others." }));
      }
    }
    function drawHistory(doc) {
      const done = finished(doc).sort((a, b) => a.number - b.number);
      const sign = doc.objective.direction === "max" ? 1 : -1;
      let best = null;
      const bestY = done.map(function (t) {
        if (best === null || sign * t.score > sign * best) best = t.score;
        return best;
      });
      const kind = done.length > 2000 ? "scattergl" : "scatter";
      draw(history, [
        { type: kind, mode: "markers", name: "trial", x: done.map((t) => t.number), y: done.map((t) => t.score),
          text: done.map((t) => pt(t.id)), hovertemplate: "trial %{text}<br>score %{y}<extra></extra>" },
        { type: kind, mode: "lines", name: "best so far", x: done.map((t) => t.number), y: bestY, line: { shape: "hv" } },
      ], { xaxis: { title: { text: "trial number" } }, yaxis: { title: { text: pt(doc.objective.objectives ? "combined score" : doc.objective.name) } } });
    }
    // One axis of the parallel coordinates. A log-scaled number is drawn as its log10 with
    // ticks at powers of ten; an inactive (conditional) value sits below the axis' range.
    function dimension(doc, rows, name) {
      const raw = rows.map((t) => t.values[name]);
      const present = raw.filter((v) => v !== undefined);
      if (present.length && present.every((v) => typeof v === "number")) {
        const log = doc.log.includes(name) && present.every((v) => v > 0);
        const values = raw.map((v) => (v === undefined ? undefined : log ? Math.log10(v) : v));
        const lo = Math.min(...values.filter((v) => v !== undefined));
        const hi = Math.max(...values.filter((v) => v !== undefined));
        const span = hi - lo || 1;
        const inactive = lo - 0.15 * span;
        let ticks = log
          ? Array.from({ length: Math.floor(hi) - Math.ceil(lo) + 1 }, (_, i) => Math.ceil(lo) + i)
          : [lo, (lo + hi) / 2, hi];
        if (ticks.length < 2) ticks = [lo, hi];
        const label = (v) => fmt(log ? Math.pow(10, v) : v);
        const missing = values.some((v) => v === undefined);
        return {
          label: pt(name) + (log ? " (log)" : ""),
          values: values.map((v) => (v === undefined ? inactive : v)),
          range: [missing ? inactive : lo, hi],
          tickvals: missing ? [inactive, ...ticks] : ticks,
          ticktext: (missing ? ["(inactive)"] : []).concat(ticks.map(label)),
        };
      }
      const labels = Array.from(new Set(raw.map((v) => (v === undefined ? "(inactive)" : fmt(v))))).sort();
      return { label: pt(name), values: raw.map((v) => labels.indexOf(v === undefined ? "(inactive)" : fmt(v))),
        tickvals: labels.map((_, i) => i), ticktext: labels.map(pt) };
    }
    function drawParallel(doc) {
      const done = finished(doc);
      const dims = doc.hyperparameters.map((n) => dimension(doc, done, n));
      dims.push({ label: "score", values: done.map((t) => t.score) });
      draw(parallel, [{ type: "parcoords", dimensions: dims,
        line: { color: done.map((t) => t.score), colorscale: "Viridis", showscale: true,
          reversescale: doc.objective.direction === "min" } }], { margin: { l: 60, r: 60, t: 40, b: 30 } });
    }
    function drawSlices(doc) {
      const done = finished(doc);
      const names = doc.hyperparameters;
      const have = new Set(Array.from(slices.children).map((d) => d.id));
      const wanted = new Set(names.map((_, i) => "slice-" + i));
      for (const div of Array.from(slices.children)) if (!wanted.has(div.id)) div.remove();
      names.forEach(function (name, i) {
        const id = "slice-" + i;
        let div = document.getElementById(id);
        if (!have.has(id) || !div) {
          div = el("div", { id: id, class: "chart slice", style: "height:240px" });
          slices.append(div);
        }
        const rows = done.filter((t) => name in t.values);
        const numeric = rows.every((t) => typeof t.values[name] === "number");
        draw(div, [{ type: rows.length > 2000 ? "scattergl" : "scatter", mode: "markers",
          x: rows.map((t) => (numeric ? t.values[name] : pt(fmt(t.values[name])))), y: rows.map((t) => t.score),
          marker: { color: rows.map((t) => t.number), colorscale: "Blues", size: 7 },
          text: rows.map((t) => pt(t.id)), hovertemplate: "trial %{text}<br>%{x}<br>score %{y}<extra></extra>" }],
        { title: { text: pt(name), font: { size: 13 } }, margin: { l: 50, r: 10, t: 30, b: 40 },
          xaxis: { type: numeric ? (doc.log.includes(name) ? "log" : "linear") : "category" } }, { displayModeBar: false });
      });
    }
    function drawPareto(doc) {
      if (!doc.pareto) {
        paretoBox.parentElement.style.display = "none";
        return;
      }
      paretoBox.parentElement.style.display = "";
      const keys = doc.objective.objectives.map((o) => o.name);
      const done = doc.trials.filter((t) => FINISHED.includes(t.status) && t.objectives && keys.every((k) => t.objectives[k] !== null));
      const front = new Set(doc.pareto);
      const onFront = done.filter((t) => front.has(t.id)).sort((a, b) => a.objectives[keys[0]] - b.objectives[keys[0]]);
      const [kx, ky] = [keys[0], keys[1] || keys[0]];
      draw(pareto, [
        { type: "scatter", mode: "markers", name: "trial", x: done.map((t) => t.objectives[kx]), y: done.map((t) => t.objectives[ky]),
          marker: { color: "#9aa5b1" }, text: done.map((t) => pt(t.id)), hovertemplate: "trial %{text}<extra></extra>" },
        { type: "scatter", mode: "lines+markers", name: "Pareto front", x: onFront.map((t) => t.objectives[kx]),
          y: onFront.map((t) => t.objectives[ky]), line: { shape: "hv" }, marker: { size: 9, color: "#d9480f" },
          text: onFront.map((t) => pt(t.id)), hovertemplate: "trial %{text}<extra></extra>" },
      ], { xaxis: { title: { text: pt(kx) } }, yaxis: { title: { text: pt(ky) } } });
    }

    poll(() => "/api/trials?project=" + encodeURIComponent(name), function (doc) {
      if (storeError(doc, problem)) {
        main.classList.add("unreadable");
        return;
      }
      main.classList.remove("unreadable");
      state.doc = doc;
      const objective = doc.objective.objectives
        ? doc.objective.objectives.map((o) => o.name + " (" + o.direction + ")").join(", ")
        : doc.objective.name + " (" + doc.objective.direction + ")";
      const counts = Object.entries(doc.counts).map(([s, n]) => n + " " + s).join(", ");
      info.textContent = "Objective: " + objective + ". Trials: " + doc.trials.length + (counts ? " (" + counts + ")" : "") + ".";
      options(status, [["", "any"], ...Object.keys(doc.counts).sort().map((s) => [s, s])], true);
      options(hp, [["", "any"], ...doc.hyperparameters.map((n) => [n, n])], true);
      table();
      drawHistory(doc);
      drawPareto(doc);
      drawParallel(doc);
      drawSlices(doc);
    });
    poll(() => "/api/importance?project=" + encodeURIComponent(name), function (doc) {
      if (doc.error) return;
      const names = Object.keys(doc.importance);
      importanceNote.textContent = doc.note || ("From " + doc.used + " of " + doc.finished +
        " finished trials (a random forest on the trials, fANOVA-style main effects).");
      draw(importance, [{ type: "bar", orientation: "h", y: names.map(pt).reverse(),
        x: names.map((n) => doc.importance[n]).reverse() }], { margin: { l: 140, r: 20, t: 10, b: 40 },
        xaxis: { title: { text: "share of the score's variation" } } });
    });
    function curvesUrl() {
      const chosen = state.metric ? "&metric=" + encodeURIComponent(state.metric) : "";
      return "/api/curves?project=" + encodeURIComponent(name) + chosen;
    }
    poll(curvesUrl, function (doc) {
      if (doc.error) return;
      options(metric, doc.metrics.map((m) => [m, m]), false);
      if (doc.metric) metric.value = doc.metric;
      curvesNote.textContent = doc.total
        ? "Trials that reported several steps" + (doc.total > doc.lines.length ? " (the latest " + doc.lines.length + " of " + doc.total + ")" : "") + "; a continued Hyperband trial is joined to its parent's steps."
        : "No trial reported several steps of this metric.";
      const label = (line) => "trial " + line.id + (line.joined.length ? " (continues " + line.joined.join(", ") + ")" : "");
      draw(curves, doc.lines.map((line) => ({ type: "scatter", mode: "lines+markers", x: line.steps, y: line.values,
        name: pt(label(line)), hovertemplate: pt(label(line)) + "<br>step %{x}: %{y}<extra></extra>" })),
      { xaxis: stepAxis(doc.lines.flatMap((line) => line.steps)), yaxis: { title: { text: pt(doc.metric || "") } }, showlegend: doc.lines.length <= 20 });
    });
  }

  // -- one trial -------------------------------------------------------------------------------
  function trialPage() {
    const name = params.get("project") || "";
    const id = params.get("id") || "";
    document.getElementById("where").textContent = name;
    main.append(el("p", {}, el("a", { href: projectLink(name), text: "\u2190 project " + name })));
    const head = el("h1", { text: "Trial " + id });
    const body = el("div", { id: "trial-body" });
    main.append(head, body);
    poll(() => "/api/trial?project=" + encodeURIComponent(name) + "&id=" + encodeURIComponent(id), function (doc) {
      if (storeError(doc, body)) return;
      if (doc.missing) {
        body.append(el("p", { class: "error", text: doc.missing }));
        return;
      }
      const t = doc.trial;
      head.textContent = "Trial " + t.id + " (#" + t.number + ")";
      const facts = [["Status", t.status], ["Score", fmt(t.score)], ["Best step", fmt(t.best_step)],
        ["Duration", seconds(t.duration)], ["Started", when(t.started)], ["Ended", when(t.ended)],
        ["Retries", fmt(t.retries)], ["Run by", t.owner || ""]];
      const table = el("table", { id: "facts" }, ...facts.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: v }))));
      if (t.parent) {
        table.append(el("tr", {}, el("th", { text: "Continues" }), el("td", {}, el("a", { href: trialLink(name, t.parent), text: "trial " + t.parent }))));
      }
      body.append(table);
      if (t.message) body.append(el("h2", { text: "Error" }), el("pre", { id: "message", class: "error", text: t.message }));
      body.append(el("h2", { text: "Hyperparameters" }));
      body.append(el("table", { id: "values" }, ...Object.entries(t.values).map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: fmt(v) })))));
      body.append(el("h2", { text: "Metrics per step" }));
      const names = Object.keys(t.metrics);
      const plotted = names.filter((n) => t.metrics[n].length > 1);
      if (plotted.length) {
        const div = chart(body, "trial-metrics", 300);
        draw(div, plotted.map((n) => ({ type: "scatter", mode: "lines+markers", name: pt(n),
          x: t.metrics[n].map((p) => p.step), y: t.metrics[n].map((p) => p.value) })), { xaxis: stepAxis(plotted.flatMap((n) => t.metrics[n].map((p) => p.step))) });
      }
      const steps = Array.from(new Set(names.flatMap((n) => t.metrics[n].map((p) => p.step)))).sort((a, b) => a - b);
      const grid = el("table", { id: "metrics" }, el("tr", {}, el("th", { text: "step" }), ...names.map((n) => el("th", { text: n }))));
      for (const s of steps) {
        grid.append(el("tr", {}, el("td", { text: s }), ...names.map(function (n) {
          const point = t.metrics[n].find((p) => p.step === s);
          return el("td", { text: point ? fmt(point.value) : "" });
        })));
      }
      body.append(grid);
      body.append(el("h2", { text: "Model files" }));
      if (t.files === null) body.append(el("p", { class: "note", text: "This store is a database: model files stay under the search's directory, on the host that ran the trial." }));
      else if (!t.files.length) body.append(el("p", { class: "note", text: "No file in this trial's folder." }));
      else body.append(el("ul", { id: "files" }, ...t.files.map((f) => el("li", { text: f.path + " (" + f.bytes + " bytes)" }))));
    });
  }

  if (page === "projects") projectsPage();
  else if (page === "project") projectPage();
  else if (page === "trial") trialPage();
})();
