// The network graph: Cytoscape.js on the elements /graph/data.json returns (no inline script).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("cy");
    if (!box || typeof cytoscape === "undefined") { return; }
    fetch(box.dataset.src, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var cy = cytoscape({
          container: box,
          elements: { nodes: data.nodes, edges: data.edges },
          style: [
            { selector: "node", style: { "label": "data(label)", "font-size": 9, "width": 14, "height": 14, "background-color": "#2f5d8a" } },
            { selector: "node[type != 'chat']", style: { "background-color": "#9a5b00", "shape": "diamond" } },
            { selector: "edge", style: { "width": "mapData(weight, 1, 20, 1, 6)", "line-color": "#b8c2cf", "curve-style": "haystack" } }
          ],
          layout: { name: "cose", animate: false }
        });
        cy.on("tap", "node", function (ev) {
          var chat = ev.target.data("chat_id");
          if (chat) { window.location.href = "/chats/" + chat; }
        });
        document.getElementById("graph-info").textContent =
          data.nodes.length + " / " + data.total_nodes + " nodes, " + data.edges.length + " edges";
        window.haechiGraph = cy;
      });
  });
})();
