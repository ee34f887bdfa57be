// Small behaviours declared with data attributes, so templates need no inline script or
// on* handlers (the Content-Security-Policy allows scripts from the app's own origin only).
//   data-print             a button that opens the browser's print dialog
//   data-select-on-focus   a read-only field whose whole text is selected when focused
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });
  document.addEventListener("focusin", function (event) {
    var field = event.target.closest("[data-select-on-focus]");
    if (field) { field.select(); }
  });
})();
