// Home exercise program form: optional buttons that move exercise rows up and down.
// The "Order" numbers are what the server reads; without JavaScript they are typed in.
(function () {
  "use strict";
  var rows = function () {
    return Array.prototype.slice.call(document.querySelectorAll("[data-exercise-row]"));
  };
  var renumber = function () {
    rows().forEach(function (row, i) { row.querySelector("input[name$='-order']").value = i + 1; });
  };
  document.querySelectorAll("[data-move-buttons]").forEach(function (el) { el.classList.remove("d-none"); });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-move]");
    if (!button) { return; }
    var row = button.closest("[data-exercise-row]");
    var sibling = button.dataset.move === "-1" ? row.previousElementSibling : row.nextElementSibling;
    if (!sibling || !sibling.matches("[data-exercise-row]")) { return; }
    if (button.dataset.move === "-1") { sibling.before(row); } else { sibling.after(row); }
    renumber();
    button.focus();
  });
})();
