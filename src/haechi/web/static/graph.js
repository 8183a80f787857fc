// The network graph: Cytoscape.js on the elements /graph/data.json returns (no inline script).
// Nodes are coloured by type (the legend on the page names them) and a click opens the
// node's own page (a room opens its timeline).
(function () {
  "use strict";
  var COLOURS = {
    chat: "#2f5d8a", account: "#6b7c93", bot: "#b04a00", username: "#8a6d00", invite: "#7b3fa0",
    private_chat: "#5b4b9e", name: "#8a8f98", media: "#a12a2a", identifier: "#2b7a4b"
  };
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("cy");
    if (!box || typeof cytoscape === "undefined") { return; }
    fetch(box.dataset.src, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var style = [
          { selector: "node", style: { "label": "data(label)", "font-size": 9, "width": 14, "height": 14, "background-color": "#2f5d8a", "text-wrap": "ellipsis", "text-max-width": 120 } },
          { selector: "node[type != 'chat']", style: { "shape": "diamond" } },
          { selector: "node[risk = 'high']", style: { "border-width": 3, "border-color": "#a12a2a" } },
          { selector: "edge", style: { "width": "mapData(weight, 1, 20, 1, 6)", "line-color": "#b8c2cf", "curve-style": "haystack" } }
        ];
        Object.keys(COLOURS).forEach(function (kind) {
          style.push({ selector: "node[type = '" + kind + "']", style: { "background-color": COLOURS[kind] } });
        });
        var cy = cytoscape({
          container: box,
          elements: { nodes: data.nodes, edges: data.edges },
          style: style,
          layout: { name: "cose", animate: false }
        });
        cy.on("tap", "node", function (ev) {
          var href = ev.target.data("href");
          if (href) { window.location.href = href; }
        });
        document.getElementById("graph-info").textContent =
          data.nodes.length + " / " + data.total_nodes + " " + (box.dataset.nodesWord || "nodes") + ", " +
          data.edges.length + " " + (box.dataset.edgesWord || "edges");
        window.haechiGraph = cy;
      });
  });
})();
