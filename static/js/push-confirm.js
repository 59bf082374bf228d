// The push confirmation page: the Restart column and the plan follow the "write only" box, so the plan
// shown is the one that will be queued. Without this script the column shows the choice the page was opened with.
(function () {
  "use strict";
  function update() {
    var box = document.getElementById("confirm-write-only");
    if (!box) return;
    document.querySelectorAll("#push-nodes td.restart").forEach(function (cell) {
      cell.textContent = box.checked ? cell.dataset.ifWriteOnly : cell.dataset.ifRestart;
    });
    document.querySelectorAll("#push-order .push-plan").forEach(function (plan) {
      plan.hidden = (plan.dataset.plan === "write-only") !== box.checked;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "confirm-write-only") update();
  });
  document.addEventListener("DOMContentLoaded", update);
})();
