/* The associates network on a POLE profile (templates/pole/_network.html), drawn with Cytoscape.js.

   The page lists the same network as text (what screen readers and no-script read); this draws it as a
   graph from the JSON endpoint in [data-network-src] (/networks/<kind>/<id>.json, the page's filters in
   its query string). The profile's record is in the middle, the records linked to it in the first ring,
   those linked to them outside. Tapping a connection lists the entries behind it as links; tapping a
   record offers its profile. No inline script or style: the CSP forbids both. */
(function () {
  "use strict";

  var box = document.querySelector("[data-network-src]");
  if (!box || !window.cytoscape) { return; }
  var panel = document.querySelector("[data-testid=network-panel]");

  // Cytoscape adds a <style> for its container unless an element with this id exists; the CSP would refuse
  // it, and static/css/app.css gives .network-graph the position it sets.
  if (!document.getElementById("__________cytoscape_stylesheet")) {
    var marker = document.createElement("meta");
    marker.id = "__________cytoscape_stylesheet";
    document.head.appendChild(marker);
  }

  var COLOURS = { person: "#1d70b8", vehicle: "#00703c", location: "#f47738", organisation: "#4c2c92" };
  var SHAPES = { person: "ellipse", vehicle: "round-rectangle", location: "diamond", organisation: "hexagon" };

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function link(href, text) {
    var a = el("a", text);
    a.href = href;
    return a;
  }

  function show(children) {
    panel.replaceChildren.apply(panel, children);
    panel.hidden = false;
  }

  function edgePanel(data, names) {
    var heading = el("h3", names[data.source] + " and " + names[data.target]);
    var count = el("p", data.count + (data.count === 1 ? " entry" : " entries") + " link them.", "meta");
    var list = el("ul", null, "network-panel__entries");
    data.entries.forEach(function (entry) {
      var item = el("li");
      var a = link(entry.url, entry.kind_label + ", " + entry.date);
      a.setAttribute("data-entry-id", entry.id);
      item.appendChild(a);
      item.appendChild(el("span", " " + entry.roles_text, "meta"));
      list.appendChild(item);
    });
    if (data.more_entries > 0) { list.appendChild(el("li", "and " + data.more_entries + " earlier", "meta")); }
    show([heading, count, list]);
  }

  function nodePanel(data) {
    var heading = el("h3", data.label);
    var parts = [heading, el("p", data.noun + (data.step === 0 ? ", this record" :
      data.step === 1 ? ", linked to this record" : ", two steps away"), "meta")];
    if (data.url && data.step !== 0) {
      var p = el("p");
      p.appendChild(link(data.url, "Open the profile of " + data.label));
      parts.push(p);
    }
    parts.push(el("p", "Tap a line to list the entries behind it.", "hint"));
    show(parts);
  }

  function draw(graph) {
    var names = {};
    var elements = graph.nodes.map(function (node) {
      names[node.id] = node.label;
      return { group: "nodes", data: Object.assign({ short: node.label.length > 22 ? node.label.slice(0, 21) + "…" : node.label }, node) };
    });
    graph.edges.forEach(function (edge) { elements.push({ group: "edges", data: edge }); });
    box.hidden = false;
    var cy = window.cytoscape({
      container: box,
      elements: elements,
      minZoom: 0.3,
      maxZoom: 3,
      style: [
        { selector: "node", style: {
          "background-color": function (n) { return COLOURS[n.data("kind")] || "#505a5f"; },
          shape: function (n) { return SHAPES[n.data("kind")] || "ellipse"; },
          label: "data(short)", "font-size": 11, color: "#0b0c0c", "text-valign": "bottom", "text-margin-y": 4,
          "text-background-color": "#fff", "text-background-opacity": 0.85, "text-background-padding": 2,
          width: function (n) { return n.data("step") === 0 ? 34 : 24; },
          height: function (n) { return n.data("step") === 0 ? 34 : 24; },
          "border-width": function (n) { return n.data("step") === 0 ? 4 : 0; }, "border-color": "#0b0c0c" } },
        { selector: "edge", style: {
          width: function (e) { return Math.min(2 + e.data("count"), 9); }, "line-color": "#b1b4b6",
          "curve-style": "bezier" } },
        { selector: ":selected", style: { "line-color": "#ffdd00", "border-width": 4, "border-color": "#ffdd00" } }
      ],
      layout: { name: "concentric", concentric: function (n) { return 3 - n.data("step"); },
                levelWidth: function () { return 1; }, minNodeSpacing: 28, animate: false }
    });
    if (cy.zoom() > 1.4) { cy.zoom(1.4); cy.center(); }  // a few records: not drawn at three times their size
    cy.on("tap", "edge", function (event) { edgePanel(event.target.data(), names); });
    cy.on("tap", "node", function (event) { nodePanel(event.target.data()); });
    box.setAttribute("data-drawn", "true");
    window.beatbookNetwork = cy;  // for the browser test: edges' positions on the canvas
  }

  fetch(box.getAttribute("data-network-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(draw)
    .catch(function () {
      show([el("p", "The graph could not be drawn; the list below shows the same network.", "meta")]);
    });
})();
