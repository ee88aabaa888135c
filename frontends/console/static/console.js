// The console's only script: live instance states, and a confirmation before destructive buttons.
// Everything works without it (a reload shows the same); it only saves the reloads.
(function () {
  "use strict";
  var POLL_MS = 2000;   // while an instance is between states
  var IDLE_MS = 10000;  // otherwise: changes made elsewhere (another client, the engine) still show

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  function nextPoll(table, rows) {
    var busy = rows.some(function (row) { return row.dataset.settled !== "yes"; });
    window.setTimeout(function () { poll(table); }, busy ? POLL_MS : IDLE_MS);
  }

  function poll(table) {
    var waiting = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-id]"));
    if (!waiting.length) { return; }
    var query = waiting.map(function (row) { return "id=" + encodeURIComponent(row.dataset.id); }).join("&");
    fetch(table.dataset.poll + "?" + query, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (states) {
        waiting.forEach(function (row) {
          var now = states[row.dataset.id];
          if (!now) { return; }
          var badge = row.querySelector(".state-cell .state");
          if (badge.textContent !== now.state) {
            badge.textContent = now.state;
            badge.className = "state state-" + now.state;
            row.querySelector(".actions").innerHTML = now.actions;  // rendered and escaped by the server
          }
          row.dataset.settled = now.settled ? "yes" : "no";
        });
      })
      .catch(function () { /* the next turn tries again */ })
      .finally(function () { nextPoll(table, waiting); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("instances");
    if (table && table.dataset.poll) {
      nextPoll(table, Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-id]")));
    }
  });
})();
