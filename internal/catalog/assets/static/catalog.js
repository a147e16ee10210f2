// capd catalog: filter the capability list as you type. The search form
// works without this script (the server filters on ?q=); this only makes
// it instant. It narrows the rows the page holds, so clear the box or
// press Enter to search the whole catalog again.
(function () {
  "use strict";
  var input = document.querySelector("input[data-filter]");
  if (!input) {
    return;
  }
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-search]"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("[data-group]"));
  var noMatch = document.getElementById("no-match");
  var count = document.querySelector("[data-count]");
  var queryEcho = noMatch ? noMatch.querySelector("[data-query]") : null;
  var total = rows.length;
  var initialQuery = input.value.trim();
  var initialCount = count ? count.textContent : "";

  // Same rule as the server: every whitespace-separated term must occur.
  function matches(text, terms) {
    for (var i = 0; i < terms.length; i++) {
      if (text.indexOf(terms[i]) < 0) {
        return false;
      }
    }
    return true;
  }

  function filter() {
    var q = input.value.trim();
    var terms = q.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var ok = matches(row.getAttribute("data-search"), terms);
      row.hidden = !ok;
      if (ok) {
        shown++;
      }
    });
    groups.forEach(function (group) {
      group.hidden = !group.querySelector("[data-search]:not([hidden])");
    });
    if (noMatch) {
      noMatch.hidden = shown > 0;
      if (queryEcho) {
        queryEcho.textContent = q;
      }
    }
    if (count) {
      if (q === initialQuery) {
        count.textContent = initialCount;
      } else if (q) {
        count.textContent = shown + " of " + total + " listed match “" + q + "”.";
      } else {
        count.textContent = total + " listed.";
      }
    }
  }

  input.addEventListener("input", filter);
})();
