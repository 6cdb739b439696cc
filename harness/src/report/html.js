// Shows one cell's details at a time. The cell in the URL's #hash opens
// first, else the first failed cell (then error,
// then known bug gone), else the first cell.
(function () {
  var buttons = Array.prototype.slice.call(document.querySelectorAll("button.cell"));
  function show(id) {
    buttons.forEach(function (b) {
      var on = b.getAttribute("data-cell") === id;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      var panel = document.getElementById(b.getAttribute("data-cell"));
      if (panel) { panel.hidden = !on; }
    });
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      var id = b.getAttribute("data-cell");
      show(id);
      if (history.replaceState) { history.replaceState(null, "", "#" + id); }
      var panel = document.getElementById(id);
      if (panel && panel.scrollIntoView) { panel.scrollIntoView({ block: "nearest" }); }
    });
  });
  var wanted = location.hash.slice(1);
  var first = buttons.filter(function (b) { return b.getAttribute("data-cell") === wanted; })[0]
    || ["failed", "error", "bug-gone"].map(function (state) {
      return buttons.filter(function (b) { return b.getAttribute("data-state") === state; })[0];
    }).filter(Boolean)[0]
    || buttons[0];
  if (first) { show(first.getAttribute("data-cell")); }
})();
